// The partial file one download writes is always a new inode that only this call has open:
// a stale task (frozen past its lease, then woken) may still hold a descriptor to an older
// partial and write into it, so an older partial is only ever read (copied), never written or
// published. The copy is a reflink or an in-kernel copy where the filesystem offers one.
import { constants } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import type { DownloadFs } from './types.js';

/** Create only; never follow a link someone put at our name. */
const CREATE_FLAGS = constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
const REOPEN_FLAGS = constants.O_RDWR | constants.O_NOFOLLOW;

export interface OwnPartial {
  handle: FileHandle;
  /** The partial copied into ours, if any (for the log). */
  copiedFrom?: string;
}

/**
 * Open `partialPath` as a new file of this call, starting with the bytes of the longest of
 * `resumeFrom` (and of a file already at `partialPath`, moved aside first) that is no longer
 * than `size`. The older partials are removed once the copy is in ours. The caller hashes what
 * is in the new file (only bytes in our own file count) and resumes after them.
 */
export async function openOwnPartial(params: { fs: DownloadFs; partialPath: string; resumeFrom?: string[]; size: number }): Promise<OwnPartial> {
  const { fs, partialPath, size } = params;
  const sources = [...(params.resumeFrom ?? [])].filter((p) => p !== partialPath);
  if (sources.length === 0) {
    // The common case, one metadata call: nothing to resume, our name is free.
    try {
      return { handle: await openMakingFolder(fs, partialPath, CREATE_FLAGS) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  const aside = asidePath(partialPath);
  try {
    await fs.rename(partialPath, aside);
    sources.unshift(aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const best = await longest(fs, sources, size);
  let handle: FileHandle;
  if (best) {
    try {
      // Exclusive create of a name only this call uses: the copy lands in a new inode.
      await copyMakingFolder(fs, best, partialPath);
      handle = await fs.open(partialPath, REOPEN_FLAGS);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      // The source vanished under us (cleanup, another takeover): start empty.
      handle = await openMakingFolder(fs, partialPath, CREATE_FLAGS);
    }
  } else {
    handle = await openMakingFolder(fs, partialPath, CREATE_FLAGS);
  }
  for (const s of sources) await fs.unlink(s).catch(() => undefined);
  return { handle, copiedFrom: best };
}

/** `<etag>[.<tag>].incomplete` → `<etag>[.<tag>].aside-<random>.incomplete`: still a partial to `cleanup`, never resumed in place. */
function asidePath(partialPath: string): string {
  return partialPath.replace(/\.incomplete$/, '') + `.aside-${randomBytes(4).toString('hex')}.incomplete`;
}

/** The longest regular file among `paths` (lstat: a symlink is never a source, never read through). */
async function longest(fs: DownloadFs, paths: string[], size: number): Promise<string | undefined> {
  let best: string | undefined;
  let bestSize = 0;
  for (const p of paths) {
    const st = await fs.lstat(p).catch(() => undefined);
    if (st?.isFile() && st.size > bestSize && st.size <= size) {
      best = p;
      bestSize = st.size;
    }
  }
  return best;
}

async function copyMakingFolder(fs: DownloadFs, from: string, to: string): Promise<void> {
  const mode = constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE;
  try {
    await fs.copyFile(from, to, mode);
    return;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || (await fs.lstat(from).catch(() => undefined)) === undefined) throw err;
  }
  await fs.mkdir(dirname(to), { recursive: true });
  await fs.copyFile(from, to, mode);
}

/**
 * Open (creating) a file, making its folder only when it is missing: the folder almost always
 * exists, and a recursive mkdir first would cost every blob two more metadata calls.
 */
export async function openMakingFolder(fs: DownloadFs, path: string, flags: string | number): Promise<FileHandle> {
  try {
    return await fs.open(path, flags, 0o666);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await fs.mkdir(dirname(path), { recursive: true });
  return fs.open(path, flags, 0o666);
}

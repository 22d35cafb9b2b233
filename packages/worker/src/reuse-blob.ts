import { constants } from 'node:fs';
import { copyFile, link, lstat, readdir, rename, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { CacheDirs, IntegrityError, UnsafeCacheError, checkFile, type BlobExpectation } from '@hfhpc/core';

/** Where a blob lives under the cache root, in some repo folder other than `exceptRepoDir`. */
export async function findBlobElsewhere(params: { root: string; blob: string; size: number; exceptRepoDir: string; repoDirs?: string[]; dirs?: CacheDirs }): Promise<string | undefined> {
  const dirs = params.dirs ?? new CacheDirs(params.root);
  for (const dir of params.repoDirs ?? (await listRepoDirs(params.root))) {
    if (dir === params.exceptRepoDir) continue;
    const blobsDir = join(dir, 'blobs');
    // A repo whose blobs/ is a link hfhpc did not make is not used (its own tasks refuse it).
    const usable = await dirs.check(blobsDir).catch((err: unknown) => {
      if (err instanceof UnsafeCacheError) return false;
      throw err;
    });
    if (!usable) continue;
    const candidate = join(blobsDir, params.blob);
    const st = await lstat(candidate).catch(() => undefined);
    // A complete blob is only ever renamed into place after verification; the size check
    // guards against a file someone else put there by hand. A symlink is never followed.
    if (st?.isFile() && st.size === params.size) return candidate;
  }
  return undefined;
}

/** The repo folders (`datasets--org--name`, also models/spaces) directly under the cache root (real folders, not links). */
export async function listRepoDirs(root: string): Promise<string[]> {
  const entries = await readdir(root, { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isDirectory() && /^(datasets|models|spaces)--/.test(e.name)).map((e) => join(root, e.name));
}

const LINK_UNSUPPORTED = new Set(['EXDEV', 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EMLINK', 'ENOSYS']);

/**
 * Put an existing verified blob at `target` without a download: a hard link (same bytes, no
 * space), else a copy into a new file of its own (`<target>.<random>.incomplete`, created
 * exclusively, so never through a planted link) that is verified before the rename, since a
 * copy is a new set of bytes that could be short. An existing `target` is left alone.
 */
export async function reuseBlob(params: { source: string; target: string; expected: BlobExpectation; signal?: AbortSignal }): Promise<'linked' | 'copied' | 'present'> {
  const { source, target } = params;
  try {
    // link(2) neither follows a link at `target` (EEXIST) nor at `source` (it would link the link).
    await link(source, target);
    return 'linked';
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (code === 'EEXIST') return 'present';
    if (!LINK_UNSUPPORTED.has(code)) throw err;
  }
  const partial = `${target}.${randomBytes(6).toString('hex')}.incomplete`;
  try {
    // COPYFILE_EXCL: the copy is created with O_EXCL, which refuses any entry at the name.
    await copyFile(source, partial, constants.COPYFILE_EXCL);
    const bad = await checkFile({ path: partial, expected: params.expected, signal: params.signal });
    if (bad) throw new IntegrityError(`copy of ${source} to ${target} does not match: ${bad}`, { hint: 'run hfhpc verify on the source dataset' });
    await rename(partial, target);
  } catch (err) {
    await rm(partial, { force: true });
    throw err;
  }
  return 'copied';
}

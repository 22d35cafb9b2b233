// Atomic writers for the two metadata files of the Hugging Face cache layout
// (docs/hub-protocol.md §4): `refs/<revision>` and `trees/<commit>.json`. The planner
// writes them right after listing, before any download, so an interrupted run is reported
// incomplete offline; the worker may rewrite them. Both go through a temp file + rename, so a
// reader never sees half a file, and two writers of the same content cannot corrupt it.
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { cacheLayout, isCommitSha } from './cache-layout.js';
import { CacheDirs, writeNewFile } from './safe-fs.js';

/** One file of a commit, as the tree listing gives it. */
export interface TreeFileEntry {
  path: string;
  size: number;
  /** Git blob sha1 (of the pointer file for LFS files). */
  oid: string;
  /** sha256 of the content, LFS files only. */
  lfsSha256?: string | null;
}

export interface WriteRefParams {
  /** The download root (a hub cache directory). */
  root: string;
  /** `org/name`. */
  repo: string;
  /** Branch or tag name, e.g. `main` or `refs/pr/1`. A full commit sha writes nothing. */
  revision: string;
  /** The 40-hex commit the revision was pinned to. */
  commit: string;
  /** The root's folder checker (allowances, folders already checked). Default: a strict one. */
  dirs?: CacheDirs;
}

/**
 * Write `refs/<revision>` = commit (no newline). Returns the path written, or undefined when
 * the revision is itself a commit sha (the layout has no ref for those).
 */
export async function writeRef(params: WriteRefParams): Promise<string | undefined> {
  const { root, repo, revision, commit } = params;
  const layout = cacheLayout(root, repo);
  layout.treePath(commit); // validates the commit before anything is written
  if (isCommitSha(revision)) return undefined;
  const target = layout.refPath(revision);
  await writeCacheFile(params.dirs ?? new CacheDirs(root), target, commit);
  return target;
}

export interface WriteTreeParams {
  root: string;
  repo: string;
  commit: string;
  files: Iterable<TreeFileEntry>;
  dirs?: CacheDirs;
}

/** Write `trees/<commit>.json` in the format current Python clients read (docs/hub-protocol.md §4). */
export async function writeTree(params: WriteTreeParams): Promise<string> {
  const { root, repo, commit } = params;
  const target = cacheLayout(root, repo).treePath(commit);
  const byPath = (a: TreeFileEntry, b: TreeFileEntry) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
  const listed = [...params.files];
  // Tree listings usually come sorted already; checking is cheaper than sorting 100,000 paths.
  const entries = listed.every((f, i) => i === 0 || byPath(listed[i - 1], f) <= 0) ? listed : listed.sort(byPath);
  const files: Record<string, Record<string, string | number>> = {};
  for (const f of entries) {
    // xet_hash is left out on purpose: a wrong one makes the client ignore the whole file.
    files[f.path] = f.lfsSha256
      ? { size: f.size, blob_id: f.oid, lfs_sha256: f.lfsSha256, lfs_size: f.size }
      : { size: f.size, blob_id: f.oid };
  }
  await writeCacheFile(params.dirs ?? new CacheDirs(root), target, JSON.stringify({ format_version: 1, files }));
  return target;
}

/**
 * A file under the root: its folders made and checked by `dirs` (no link on the way), then
 * written atomically. A link planted at `target` itself is replaced by the rename, never followed.
 */
async function writeCacheFile(dirs: CacheDirs, target: string, content: string): Promise<void> {
  await dirs.ensure(dirname(target));
  await replaceAtomically(target, (temp) => writeNewFile(temp, content));
}

/**
 * Write a file through a sibling temp file and a rename; the temp file never survives a failure.
 * For paths the operator names (`status --output`): the folder is made with its parents.
 */
export async function writeFileAtomic(target: string, content: string | Uint8Array): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  await replaceAtomically(target, (temp) => writeNewFile(temp, content));
}

/**
 * Put a new entry at `target` in one rename: `create` makes it (a file, a symlink) under a
 * sibling temp name, which never survives a failure. Readers see the old entry or the new one.
 * `create` must make the temp entry exclusively (writeNewFile, symlink): the name is random, so
 * something already there was planted. The rename replaces whatever is at `target` (a link
 * included) without following it.
 */
export async function replaceAtomically(target: string, create: (temp: string) => Promise<unknown>): Promise<void> {
  const temp = `${target}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await create(temp);
    await rename(temp, target);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

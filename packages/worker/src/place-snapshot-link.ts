import { lstat, readlink, symlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { CacheDirs, replaceAtomically, type CacheLayout } from '@hfhpc/core';

export interface PlaceFileParams {
  /** The repo's cache layout (core `cacheLayout(root, repo)`). */
  layout: CacheLayout;
  repo: string;
  commit: string;
  /** Repo-relative file path from the plan (validated again here). */
  path: string;
  /** The blob name (etag) the link points to. */
  blob: string;
  /**
   * The root's folder checker for this caller (one shard run): folders it made or checked are
   * not made or checked again. A shard places many files per folder, and each check is a
   * metadata call (a round trip to the metadata server on a parallel filesystem). Default: a
   * new, strict one.
   */
  dirs?: CacheDirs;
}

/**
 * Create `snapshots/<commit>/<path>` as a relative symlink to `../../blobs/<blob>` (one more
 * `..` per folder), as huggingface_hub does. Idempotent: a correct link is left alone, a wrong
 * one (or anything else at the name) is replaced atomically (symlink under a temp name, then
 * rename, which never follows what it replaces). Folders are made one level at a time and a
 * symlinked folder on the way is refused (UnsafeCacheError), so nothing lands outside the root.
 */
export async function placeSnapshotLink(params: PlaceFileParams): Promise<string> {
  const { layout, commit, path, blob } = params;
  const dirs = params.dirs ?? new CacheDirs(dirname(layout.repoDir));
  const linkPath = layout.snapshotPath(commit, path);
  const target = layout.blobLinkTarget(path, blob);
  const parent = dirname(linkPath);
  for (let again = true; ; again = false) {
    await dirs.ensure(parent);
    // Most links are new: made in place in one call (atomic; EEXIST when anything is there).
    try {
      await symlink(target, linkPath);
      return linkPath;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && again) {
        dirs.forget(parent); // removed under us: make and check it again
        continue;
      }
      if (code !== 'EEXIST') throw err;
    }
    break;
  }
  const existing = await lstat(linkPath).catch(() => undefined);
  if (existing?.isSymbolicLink() && (await readlink(linkPath)) === target) return linkPath;
  await replaceAtomically(linkPath, (temp) => symlink(target, temp));
  return linkPath;
}

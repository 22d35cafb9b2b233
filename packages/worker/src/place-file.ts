import { lstat, mkdir, readlink, symlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { assertNoSymlinkEscape, replaceAtomically, type CacheLayout } from '@hfhpc/core';

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
   * Folders already created and checked for symlink escapes by this caller (one shard run): not
   * created or walked again. A shard places many files per folder, and each walk is a string of
   * metadata calls (round trips to the metadata server on a parallel filesystem).
   */
  checkedDirs?: Set<string>;
}

/**
 * Create `snapshots/<commit>/<path>` as a relative symlink to `../../blobs/<blob>` (one more
 * `..` per folder), as huggingface_hub does. Idempotent: a correct link is left alone, a wrong
 * one is replaced atomically (symlink under a temp name, then rename). Refuses to create
 * folders through a symlink that leads out of the repo folder.
 */
export async function placeSnapshotLink(params: PlaceFileParams): Promise<string> {
  const { layout, repo, commit, path, blob, checkedDirs } = params;
  const linkPath = layout.snapshotPath(commit, path);
  const target = layout.blobLinkTarget(path, blob);
  const parent = dirname(linkPath);
  for (;;) {
    const known = checkedDirs?.has(parent) ?? false;
    if (!known) {
      // The repo folder itself sits in the user's root (trusted); below it, nothing may lead out.
      await mkdir(layout.repoDir, { recursive: true });
      await assertNoSymlinkEscape(layout.repoDir, parent, { repo });
      await mkdir(parent, { recursive: true });
      checkedDirs?.add(parent);
    }
    // Most links are new: made in place in one call (atomic; EEXIST when anything is there).
    try {
      await symlink(target, linkPath);
      return linkPath;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && known) {
        checkedDirs?.delete(parent); // removed under us: create and check it again
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

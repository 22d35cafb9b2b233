import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { CacheDirs, UnsafeCacheError } from '@hfhpc/core';

/** Where `verify` moves corrupt blobs: out of every path a loader looks at; `cleanup` deletes them. */
export function quarantineDir(root: string): string {
  return path.join(root, '_hfhpc', 'quarantine');
}

/**
 * Move a bad blob out of `blobs/` (a loader following a snapshot link must never read it, and
 * the worker trusts a blob of the right size). Renamed, not deleted, so it can be inspected;
 * where a rename is impossible (another filesystem) it is deleted. Returns the new path, or
 * null when it was deleted or already gone.
 */
export async function quarantineBlob(params: { root: string; blobPath: string; repoFolder: string; now?: () => number; dirs?: CacheDirs }): Promise<string | null> {
  const { root, blobPath, repoFolder, now = Date.now } = params;
  const dirs = params.dirs ?? new CacheDirs(root);
  const dir = path.join(quarantineDir(root), repoFolder);
  const target = path.join(dir, `${path.basename(blobPath)}.${now()}`);
  try {
    await dirs.ensure(dir); // one level at a time: never into a planted link
    await rename(blobPath, target);
    return target;
  } catch (err) {
    if (err instanceof UnsafeCacheError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    await rm(blobPath, { force: true });
    return null;
  }
}

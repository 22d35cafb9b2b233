// Before `plan` writes anything: the cache folders it and the tasks will write into must be
// real folders, not symlinks someone planted (they would carry our writes out of the root).
import path from 'node:path';
import { CacheDirs, cacheLayout, type SymlinkableDir } from '@hfhpc/core';

/**
 * Check `_hfhpc/`, `_hfhpc/plans/` and each repo's folder, `blobs/`, `snapshots/`, `refs/`,
 * `trees/` where they exist (nothing is created). Throws UnsafeCacheError naming the link.
 * Returns the checker, to make the folders the plan writes into without checking them again.
 */
export async function checkCacheDirs(params: { root: string; repos: readonly string[]; allowSymlinkedDirs?: readonly SymlinkableDir[] }): Promise<CacheDirs> {
  const dirs = new CacheDirs(params.root, { allowSymlinkedDirs: params.allowSymlinkedDirs });
  await dirs.check(path.join(params.root, '_hfhpc', 'plans'));
  for (const repo of params.repos) {
    const l = cacheLayout(params.root, repo);
    for (const dir of [l.blobsDir, l.snapshotsDir, l.refsDir, l.treesDir]) await dirs.check(dir);
  }
  return dirs;
}

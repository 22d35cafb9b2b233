import { lstat } from 'node:fs/promises';
import { CacheDirs, cacheLayout, datasetTreeFiles, isCommitSha, repoPathProblem, writeRef, writeTree, type Store } from '@hfhpc/core';

export interface EnsureRepoMetaParams {
  store: Store;
  root: string;
  datasetId: number;
  repo: string;
  revision: string;
  commit: string;
  /** The shard run's folder checker. Default: a strict one. */
  dirs?: CacheDirs;
}

// A regular file, not followed: a link planted at the name counts as missing and is replaced.
const isFile = (p: string): Promise<boolean> => lstat(p).then((st) => st.isFile(), () => false);

/**
 * Make sure `refs/<revision>` and `trees/<commit>.json` exist for a dataset (the planner
 * writes them; a cache copied or pruned since must not lose them): without the ref an offline
 * load cannot find the snapshot, without the tree it cannot tell complete from partial.
 * Idempotent and cheap when both are there (the folder checks and two lstats).
 */
export async function ensureRepoMeta(params: EnsureRepoMetaParams): Promise<void> {
  const { root, repo, revision, commit } = params;
  const dirs = params.dirs ?? new CacheDirs(root);
  const layout = cacheLayout(root, repo);
  // No planted link on the way, even when both files are there (then nothing else checks refs/).
  await dirs.check(layout.refsDir);
  await dirs.check(layout.treesDir);
  if (!isCommitSha(revision) && !(await isFile(layout.refPath(revision)))) {
    await writeRef({ root, repo, revision, commit, dirs });
  }
  if (!(await isFile(layout.treePath(commit)))) {
    // The planned file list of the dataset (after include/exclude): what "complete" means.
    const files = await params.store.readAsync(() => datasetTreeFiles(params.store, params.datasetId));
    // An unsafe path (a tampered plan) is refused when placing; it must not be listed either.
    await writeTree({ root, repo, commit, files: files.filter((f) => !repoPathProblem(f.path)), dirs });
  }
}

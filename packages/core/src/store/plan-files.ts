// Reading a whole plan's files, for the operator's commands that look at every file (verify).
// O(files): never on a worker's hot path, nor in status.
import type { Store } from './open-store.js';
import { stmt } from './statements.js';
import type { WorkState } from './types.js';

export interface PlanFileRow {
  id: number;
  repo: string;
  commit_sha: string;
  path: string;
  size: number;
  oid: string;
  lfs_sha256: string | null;
  blob: string;
  state: WorkState;
}

const FILES = `
SELECT f.id, d.repo, d.commit_sha, f.path, f.size, f.oid, f.lfs_sha256, f.blob, f.state
FROM files f JOIN datasets d ON d.id = f.dataset_id
WHERE d.plan_id = ? AND (? IS NULL OR d.repo = ?)
ORDER BY d.repo, f.blob, f.path`;

/** Every file of a plan (or of one of its datasets), ordered by repo, blob, path. */
export function planFilesOf(store: Store, params: { planId: number; repo?: string }): PlanFileRow[] {
  const repo = params.repo ?? null;
  return store.read((db) => stmt(db, FILES).all(params.planId, repo, repo) as PlanFileRow[]);
}

/** The repo ids of a plan's datasets, sorted. */
export function planRepos(store: Store, planId: number): string[] {
  const rows = store.read((db) => stmt(db, 'SELECT repo FROM datasets WHERE plan_id = ? ORDER BY repo').all(planId) as { repo: string }[]);
  return rows.map((r) => r.repo);
}

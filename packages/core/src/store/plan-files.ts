// Reading a whole plan's (or dataset's) files, for the commands that look at every file: verify,
// a re-plan, the worker writing a dataset's tree listing once. O(files): never in status.
import type { TreeFileEntry } from '../cache-writer.js';
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

/** What a plan holds for one path: its blob and state (a re-plan compares against it). */
export interface PlanFileState {
  blob: string;
  state: WorkState;
}

const FILE_STATES = 'SELECT d.repo, f.path, f.blob, f.state FROM files f JOIN datasets d ON d.id = f.dataset_id WHERE d.plan_id = ?';

/** repo → path → { blob, state } for every file of `planId` (a re-plan's view of the plan it replaces). */
export function readPlanFiles(store: Store, planId: number): Map<string, Map<string, PlanFileState>> {
  const rows = store.read((db) => stmt(db, FILE_STATES).all(planId) as { repo: string; path: string; blob: string; state: WorkState }[]);
  const byRepo = new Map<string, Map<string, PlanFileState>>();
  for (const r of rows) {
    let paths = byRepo.get(r.repo);
    if (!paths) byRepo.set(r.repo, (paths = new Map<string, PlanFileState>()));
    paths.set(r.path, { blob: r.blob, state: r.state });
  }
  return byRepo;
}

/** The planned files of one dataset (after include/exclude), as its `trees/<commit>.json` lists them. */
export function datasetTreeFiles(store: Store, datasetId: number): TreeFileEntry[] {
  return store.read((db) => stmt(db, 'SELECT path, size, oid, lfs_sha256 AS lfsSha256 FROM files WHERE dataset_id = ?').all(datasetId) as TreeFileEntry[]);
}

// What the current plan (the one a re-plan replaces) holds, per dataset and path. The store
// has no query for a whole plan's files, so this is the one read it needs; read-only.
import type { Store, WorkState } from '@hfhpc/core';

export interface PreviousFile {
  blob: string;
  state: WorkState;
}

/** repo → path → { blob, state } for every file of `planId`. */
export function readPlanFiles(store: Store, planId: number): Map<string, Map<string, PreviousFile>> {
  const rows = store.read(
    (db) =>
      db
        .prepare('SELECT d.repo, f.path, f.blob, f.state FROM files f JOIN datasets d ON d.id = f.dataset_id WHERE d.plan_id = ?')
        .all(planId) as { repo: string; path: string; blob: string; state: WorkState }[],
  );
  const byRepo = new Map<string, Map<string, PreviousFile>>();
  for (const r of rows) {
    let paths = byRepo.get(r.repo);
    if (!paths) byRepo.set(r.repo, (paths = new Map()));
    paths.set(r.path, { blob: r.blob, state: r.state });
  }
  return byRepo;
}

import { formatBytes, type Store, type WorkState } from '@hfhpc/core';

export interface DatasetSummary {
  repo: string;
  revision: string;
  commit: string;
  files: number;
  filesDone: number;
  filesFailed: number;
  bytes: number;
  bytesDone: number;
  state: WorkState;
}

export interface PlanSummary {
  planId: number;
  datasets: DatasetSummary[];
  shards: Record<WorkState, number>;
  failures: { repo: string; path: string; error: string }[];
  /** Every planned file done. */
  complete: boolean;
}

/** Totals of a plan for the end of `hfhpc run --local` (one short read transaction). */
export function summarizePlan(params: { store: Store; planId: number; maxFailures?: number }): PlanSummary {
  const { store, planId } = params;
  return store.read((db) => {
    const datasets = db
      .prepare(
        `SELECT d.repo, d.revision, d.commit_sha AS commit_, COUNT(f.id) AS files, COALESCE(SUM(f.state = 'done'), 0) AS filesDone,
                COALESCE(SUM(f.state = 'failed'), 0) AS filesFailed, COALESCE(SUM(f.size), 0) AS bytes,
                COALESCE(SUM(CASE WHEN f.state = 'done' THEN f.size ELSE f.bytes_done END), 0) AS bytesDone,
                COALESCE(SUM(f.state IN ('running')), 0) AS filesRunning
         FROM datasets d LEFT JOIN files f ON f.dataset_id = d.id WHERE d.plan_id = ? GROUP BY d.id ORDER BY d.repo`,
      )
      .all(planId) as (Omit<DatasetSummary, 'state' | 'commit'> & { commit_: string; filesRunning: number })[];
    const shards: Record<WorkState, number> = { pending: 0, running: 0, done: 0, failed: 0 };
    for (const r of db.prepare('SELECT state, COUNT(*) AS n FROM shards WHERE plan_id = ? GROUP BY state').all(planId) as { state: WorkState; n: number }[]) {
      shards[r.state] = r.n;
    }
    const failures = db
      .prepare(
        `SELECT d.repo, f.path, COALESCE(f.last_error, 'unknown error') AS error FROM files f JOIN datasets d ON d.id = f.dataset_id
         WHERE d.plan_id = ? AND f.state = 'failed' ORDER BY d.repo, f.path LIMIT ?`,
      )
      .all(planId, params.maxFailures ?? 20) as PlanSummary['failures'];
    const out = datasets.map(({ commit_, filesRunning, ...d }) => ({
      ...d,
      commit: commit_,
      state: (d.filesDone === d.files ? 'done' : d.filesFailed > 0 ? 'failed' : filesRunning > 0 || d.bytesDone > 0 ? 'running' : 'pending') as WorkState,
    }));
    return { planId, datasets: out, shards, failures, complete: out.every((d) => d.filesDone === d.files) };
  });
}

/** The summary as lines for a terminal. */
export function formatPlanSummary(s: PlanSummary): string[] {
  const lines = [`plan ${s.planId}: ${s.complete ? 'complete' : 'incomplete'}; shards: ${s.shards.done} done, ${s.shards.failed} failed, ${s.shards.running} running, ${s.shards.pending} pending`];
  for (const d of s.datasets) {
    lines.push(
      `  ${d.repo}@${d.revision} (${d.commit.slice(0, 12)}): ${d.state}, files ${d.filesDone}/${d.files}` +
        `${d.filesFailed ? ` (${d.filesFailed} failed)` : ''}, bytes ${formatBytes(d.bytesDone)}/${formatBytes(d.bytes)}`,
    );
  }
  for (const f of s.failures) lines.push(`  failed: ${f.repo}/${f.path}: ${f.error}`);
  return lines;
}

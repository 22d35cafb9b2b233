import { formatBytes, planRollup, type Store, type WorkState } from '@hfhpc/core';

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
  /** The plan's state, by the same rule as `hfhpc status` (core's deriveState). */
  state: WorkState;
  datasets: DatasetSummary[];
  shards: Record<WorkState, number>;
  failures: { repo: string; path: string; error: string }[];
  /** The plan has more failed files than listed. */
  failuresTruncated: boolean;
  /** Every planned file done. */
  complete: boolean;
}

/**
 * Totals and states of a plan for the end of `hfhpc run --local`: core's plan rollup, the read
 * model `hfhpc status` shows, so both say the same about each dataset and the plan.
 */
export function summarizePlan(params: { store: Store; planId: number; maxFailures?: number }): PlanSummary {
  const r = planRollup(params.store, { planId: params.planId, failureLimit: params.maxFailures ?? 20 });
  return {
    planId: r.planId,
    state: r.state,
    datasets: r.datasets.map((d) => ({
      repo: d.repo,
      revision: d.revision,
      commit: d.commitSha,
      files: d.files,
      filesDone: d.filesDone,
      filesFailed: d.filesFailed,
      bytes: d.bytes,
      bytesDone: d.bytesDone,
      state: d.state,
    })),
    shards: r.shardCounts,
    failures: r.failures,
    failuresTruncated: r.failuresTruncated,
    complete: r.complete,
  };
}

/** The summary as lines for a terminal. */
export function formatPlanSummary(s: PlanSummary): string[] {
  const lines = [`plan ${s.planId}: ${s.complete ? 'complete' : `incomplete (${s.state})`}; shards: ${s.shards.done} done, ${s.shards.failed} failed, ${s.shards.running} running, ${s.shards.pending} pending`];
  for (const d of s.datasets) {
    lines.push(
      `  ${d.repo}@${d.revision} (${d.commit.slice(0, 12)}): ${d.state}, files ${d.filesDone}/${d.files}` +
        `${d.filesFailed ? ` (${d.filesFailed} failed)` : ''}, bytes ${formatBytes(d.bytesDone)}/${formatBytes(d.bytes)}`,
    );
  }
  for (const f of s.failures) lines.push(`  failed: ${f.repo}/${f.path}: ${f.error}`);
  if (s.failuresTruncated) lines.push('  … and more failed files: see `hfhpc status`');
  return lines;
}

// The plan rollup: one state per dataset and one for the plan, derived by a single rule from the
// counters planProgress reads, for every reader (`hfhpc status`, `run --local`'s closing summary),
// so two commands never say different things about the same plan.
import type { Store } from './open-store.js';
import { planProgress, type DatasetProgress, type PlanProgress, type PlanProgressParams, type ProgressCounts } from './plan-progress.js';
import type { WorkState } from './types.js';

/** Counts of a group of files (a dataset or the whole plan) that decide its state. */
export interface StateCounts {
  files: number;
  done: number;
  failed: number;
  running: number;
  /** A lease is held on a shard that still has files of this group left. */
  leased: boolean;
}

/**
 * The state of a group of files: done when every file is; failed only when nothing is left to
 * do and some files failed (nothing more happens without a re-submit); while files remain to do,
 * running if any is being fetched or a lease covers them, else pending (partly done or not).
 */
export function deriveState(c: StateCounts): WorkState {
  if (c.done === c.files) return 'done';
  if (c.done + c.failed === c.files) return 'failed';
  if (c.running > 0 || c.leased) return 'running';
  return 'pending';
}

export interface DatasetRollup extends DatasetProgress {
  state: WorkState;
}

export interface PlanRollup extends Omit<PlanProgress, 'datasets'> {
  /** The plan's state, by deriveState over its totals. */
  state: WorkState;
  datasets: DatasetRollup[];
  /** Sums over the datasets. */
  totals: ProgressCounts & { bytesRecent: number };
  /** Shards per state. */
  shardCounts: Record<WorkState, number>;
  /** Every planned file done. */
  complete: boolean;
}

/** The plan's progress with its states (one read transaction, O(datasets + shards)). */
export function planRollup(store: Store, params: PlanProgressParams = {}): PlanRollup {
  return rollupProgress(planProgress(store, params));
}

/** States of an already-read progress (pure). */
export function rollupProgress(p: PlanProgress): PlanRollup {
  // Which datasets a held lease is working on is not counted per (dataset, shard) pair: a
  // dataset with files left counts as being worked on while any shard with files left is leased.
  const leasedWithWork = p.shards.some((s) => s.owner !== null && s.files - s.filesDone - s.filesFailed > 0);
  const datasets = p.datasets.map((d) => ({
    ...d,
    state: deriveState({ files: d.files, done: d.filesDone, failed: d.filesFailed, running: d.filesRunning, leased: leasedWithWork }),
  }));
  const totals = { files: 0, bytes: 0, filesDone: 0, filesFailed: 0, filesRunning: 0, bytesDone: 0, bytesRecent: 0 };
  for (const d of p.datasets) for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += d[k];
  const shardCounts: Record<WorkState, number> = { pending: 0, running: 0, done: 0, failed: 0 };
  for (const s of p.shards) shardCounts[s.state] += 1;
  const anyLease = p.shards.some((s) => s.owner !== null);
  const state = deriveState({ files: totals.files, done: totals.filesDone, failed: totals.filesFailed, running: totals.filesRunning, leased: anyLease });
  return { ...p, datasets, totals, shardCounts, state, complete: totals.filesDone === totals.files };
}

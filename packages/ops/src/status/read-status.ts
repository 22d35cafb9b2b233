import { planRollup, type DatasetRollup, type ShardProgress, type Store } from '@hfhpc/core';
import { groupFailures } from './failure-groups.js';
import type { DatasetStatus, FailureStatus, ShardStatus, StatusReport, UnitState } from './status-types.js';

export interface ReadStatusParams {
  store: Store;
  /** Plan to report on. Default: the newest plan. */
  planId?: number;
  /** Window over which the transfer rate is measured, in ms. Default 300000 (5 minutes). */
  rateWindowMs?: number;
  /** Clock (ms). Default: the store's clock. */
  now?: () => number;
  /** Most failed files listed in `failures`. Default 200. */
  failureLimit?: number;
}

/**
 * Everything `hfhpc status` shows, read in one short read transaction that costs
 * O(datasets + shards) whatever the number of files (core's planRollup: counters kept in
 * the same transactions that change the files). Slurm's view is added by the caller.
 */
export function readStatus(params: ReadStatusParams): StatusReport {
  const { store, rateWindowMs = 300_000 } = params;
  const now = (params.now ?? store.now)();
  // The states come from core's plan rollup, the same that `run --local`'s summary prints.
  const p = planRollup(store, { planId: params.planId, now, rateWindowMs, failureLimit: params.failureLimit });
  const seconds = (now - p.since) / 1000;
  const rateOf = (bytes: number): number | null => (seconds > 0 && bytes > 0 ? bytes / seconds : null);
  const datasets = p.datasets.map((d) => datasetStatus(d, rateOf(d.bytesRecent)));
  const shards = p.shards.map((s) => shardStatus(s, now));
  const t = p.totals;
  const totals = { files: t.files, files_done: t.filesDone, files_failed: t.filesFailed, bytes: t.bytes, bytes_done: t.bytesDone };
  const shard_counts: Record<UnitState, number> = { ...p.shardCounts };
  const state = p.state;
  const rate = rateOf(t.bytesRecent);
  const failures: FailureStatus[] = p.failures;
  return {
    plan_id: p.planId,
    job_ids: parseJobIds(p.jobIds),
    generated_at: new Date(now).toISOString(),
    state,
    totals,
    rate_bytes_per_s: rate,
    rate_window_s: Math.round(rateWindowMs / 1000),
    rate_source: 'completions',
    eta_s: eta(totals.bytes - totals.bytes_done, rate, state),
    datasets,
    shard_counts,
    shards,
    failures,
    failures_truncated: p.failuresTruncated,
    failure_groups: groupFailures({ failures }),
    throttle: p.throttle ? { not_before: new Date(p.throttle.notBefore).toISOString(), reason: p.throttle.reason } : null,
    slurm: null,
  };
}

function datasetStatus(d: DatasetRollup, rate: number | null): DatasetStatus {
  return {
    repo: d.repo,
    revision: d.revision,
    commit: d.commitSha,
    files: d.files,
    files_done: d.filesDone,
    files_failed: d.filesFailed,
    files_running: d.filesRunning,
    bytes: d.bytes,
    bytes_done: d.bytesDone,
    state: d.state,
    rate_bytes_per_s: rate,
    eta_s: eta(d.bytes - d.bytesDone, rate, d.state),
  };
}

function shardStatus(s: ShardProgress, now: number): ShardStatus {
  return {
    index: s.index,
    state: s.state,
    bytes: s.bytesTotal,
    bytes_done: s.bytesDone,
    files: s.filesTotal,
    files_done: s.filesDone,
    owner: s.owner,
    lease_expires_at: s.leaseExpiresAt === null ? null : new Date(s.leaseExpiresAt).toISOString(),
    lease_expired: s.leaseExpiresAt !== null && s.leaseExpiresAt <= now,
    attempts: s.attempts,
    last_error: s.lastError,
  };
}

/** Seconds left at `rate`: 0 when done; unknown (null) when nothing is working on it. */
export function eta(left: number, rate: number | null, state: UnitState): number | null {
  if (left <= 0 || state === 'done') return 0;
  if (state !== 'running') return null;
  return rate && rate > 0 ? Math.round(left / rate) : null;
}

function parseJobIds(text: string): string[] {
  try {
    const v = JSON.parse(text) as unknown;
    return Array.isArray(v) ? v.map(String) : [];
  } catch {
    return [];
  }
}

import type { Store } from '@hfhpc/core';
import { StateError } from '@hfhpc/core';
import { deriveState } from './derive-state.js';
import { groupFailures } from './failure-groups.js';
import { readRates } from './read-rates.js';
import type { DatasetStatus, FailureStatus, ShardStatus, StatusReport, UnitState } from './status-types.js';

export interface ReadStatusParams {
  store: Store;
  /** Plan to report on. Default: the newest plan. */
  planId?: number;
  /** Window over which the transfer rate is measured, in ms. Default 300000 (5 minutes). */
  rateWindowMs?: number;
  /** Clock (ms). Default: the store's clock. */
  now?: () => number;
}

interface DatasetAgg {
  id: number;
  repo: string;
  revision: string;
  commit_sha: string;
  files: number;
  files_done: number;
  files_failed: number;
  files_running: number;
  bytes: number;
  bytes_done: number;
  leased: number;
}

interface ShardAgg {
  idx: number;
  state: UnitState;
  bytes_total: number;
  files_total: number;
  attempts: number;
  last_error: string | null;
  owner: string | null;
  expires_at: number | null;
  bytes_done: number;
  files_done: number;
}

// Done files count whole (their bytes_done may lag if progress was batched); others count
// the bytes on disk, capped at the size.
const BYTES_DONE = "CASE WHEN f.state = 'done' THEN f.size ELSE MIN(f.bytes_done, f.size) END";

const DATASETS_SQL = `
SELECT d.id, d.repo, d.revision, d.commit_sha,
       COUNT(f.id) AS files,
       COALESCE(SUM(f.state = 'done'), 0) AS files_done,
       COALESCE(SUM(f.state = 'failed'), 0) AS files_failed,
       COALESCE(SUM(f.state = 'running'), 0) AS files_running,
       COALESCE(SUM(f.size), 0) AS bytes,
       COALESCE(SUM(${BYTES_DONE}), 0) AS bytes_done,
       EXISTS (SELECT 1 FROM files f2 JOIN leases l ON l.shard_id = f2.shard_id
               WHERE f2.dataset_id = d.id AND f2.state IN ('pending', 'running')) AS leased
FROM datasets d LEFT JOIN files f ON f.dataset_id = d.id
WHERE d.plan_id = ?
GROUP BY d.id ORDER BY d.repo`;

const SHARDS_SQL = `
SELECT s.idx, s.state, s.bytes_total, s.files_total, s.attempts, s.last_error,
       l.owner, l.expires_at,
       COALESCE(a.bytes_done, 0) AS bytes_done, COALESCE(a.files_done, 0) AS files_done
FROM shards s
LEFT JOIN leases l ON l.shard_id = s.id
LEFT JOIN (SELECT f.shard_id, SUM(${BYTES_DONE}) AS bytes_done, SUM(f.state = 'done') AS files_done
           FROM files f JOIN shards s2 ON s2.id = f.shard_id WHERE s2.plan_id = ?
           GROUP BY f.shard_id) a ON a.shard_id = s.id
WHERE s.plan_id = ?
ORDER BY s.idx`;

const FAILURES_SQL = `
SELECT d.repo, f.path, COALESCE(f.last_error, 'failed (no reason recorded)') AS error
FROM files f JOIN datasets d ON d.id = f.dataset_id
WHERE d.plan_id = ? AND f.state = 'failed'
ORDER BY d.repo, f.path`;

/**
 * Everything `hfhpc status` shows, read in one short read transaction with the aggregation
 * done by SQLite, so a reader holds the shared lock for milliseconds and never stalls the
 * workers' writes. Slurm's view is added by the caller (it is not in the database).
 */
export function readStatus(params: ReadStatusParams): StatusReport {
  const { store, rateWindowMs = 300_000 } = params;
  const now = (params.now ?? store.now)();
  return store.read((db) => {
    const plan = (
      params.planId === undefined
        ? db.prepare('SELECT id, job_ids FROM plans ORDER BY id DESC LIMIT 1').get()
        : db.prepare('SELECT id, job_ids FROM plans WHERE id = ?').get(params.planId)
    ) as { id: number; job_ids: string } | undefined;
    if (!plan) {
      throw new StateError(params.planId === undefined ? `no plan in ${store.path}` : `no plan ${params.planId} in ${store.path}`, {
        hint: params.planId === undefined ? 'run `hfhpc plan --manifest <file>` first' : 'leave out --plan-id to see the newest plan',
      });
    }
    const planId = plan.id;
    const dsRows = db.prepare(DATASETS_SQL).all(planId) as DatasetAgg[];
    const shardRows = db.prepare(SHARDS_SQL).all(planId, planId) as ShardAgg[];
    const failures = db.prepare(FAILURES_SQL).all(planId) as FailureStatus[];
    const throttleRow = db.prepare("SELECT not_before, reason FROM throttle WHERE scope = 'hub' AND not_before > ?").get(now) as
      | { not_before: number; reason: string | null }
      | undefined;
    const rates = readRates({ db, planId, since: now - rateWindowMs, now });

    const datasets: DatasetStatus[] = dsRows.map((r) => {
      const rate = rates.byDataset.get(r.id) ?? null;
      const state = deriveState({ files: r.files, done: r.files_done, failed: r.files_failed, running: r.files_running, leased: r.leased > 0 });
      return {
        repo: r.repo,
        revision: r.revision,
        commit: r.commit_sha,
        files: r.files,
        files_done: r.files_done,
        files_failed: r.files_failed,
        files_running: r.files_running,
        bytes: r.bytes,
        bytes_done: r.bytes_done,
        state,
        rate_bytes_per_s: rate,
        eta_s: eta(r.bytes - r.bytes_done, rate, state),
      };
    });
    const shards: ShardStatus[] = shardRows.map((r) => ({
      index: r.idx,
      state: r.state,
      bytes: r.bytes_total,
      bytes_done: r.bytes_done,
      files: r.files_total,
      files_done: r.files_done,
      owner: r.owner,
      lease_expires_at: r.expires_at === null ? null : new Date(r.expires_at).toISOString(),
      lease_expired: r.expires_at !== null && r.expires_at <= now,
      attempts: r.attempts,
      last_error: r.last_error,
    }));
    const sum = (k: 'files' | 'files_done' | 'files_failed' | 'files_running' | 'bytes' | 'bytes_done'): number =>
      datasets.reduce((s, d) => s + d[k], 0);
    const totals = { files: sum('files'), files_done: sum('files_done'), files_failed: sum('files_failed'), bytes: sum('bytes'), bytes_done: sum('bytes_done') };
    const shard_counts: Record<UnitState, number> = { pending: 0, running: 0, done: 0, failed: 0 };
    for (const s of shards) shard_counts[s.state] += 1;
    const state = deriveState({
      files: totals.files,
      done: totals.files_done,
      failed: totals.files_failed,
      running: sum('files_running'),
      leased: shards.some((s) => s.owner !== null),
    });
    return {
      plan_id: planId,
      job_ids: parseJobIds(plan.job_ids),
      generated_at: new Date(now).toISOString(),
      state,
      totals,
      rate_bytes_per_s: rates.total,
      rate_window_s: Math.round(rateWindowMs / 1000),
      rate_source: 'completions',
      eta_s: eta(totals.bytes - totals.bytes_done, rates.total, state),
      datasets,
      shard_counts,
      shards,
      failures,
      failure_groups: groupFailures({ failures }),
      throttle: throttleRow ? { not_before: new Date(throttleRow.not_before).toISOString(), reason: throttleRow.reason } : null,
      slurm: null,
    };
  });
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

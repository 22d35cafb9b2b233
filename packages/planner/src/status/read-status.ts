import type { Store } from '@hfhpc/core';
import { StateError } from '@hfhpc/core';
import { deriveState } from './derive-state.js';
import { groupFailures } from './failure-groups.js';
import { firstClaimAt, planFileGroups } from './plan-file-groups.js';
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

interface ShardRow {
  id: number;
  idx: number;
  state: UnitState;
  bytes_total: number;
  files_total: number;
  attempts: number;
  last_error: string | null;
  owner: string | null;
  expires_at: number | null;
}

const SHARDS_SQL = `
SELECT s.id, s.idx, s.state, s.bytes_total, s.files_total, s.attempts, s.last_error, l.owner, l.expires_at
FROM shards s LEFT JOIN leases l ON l.shard_id = s.id
WHERE s.plan_id = ? ORDER BY s.idx`;

// Through the (shard_id, state) index: only failed rows are read.
const FAILURES_SQL = `
SELECT d.repo, f.path, COALESCE(f.last_error, 'failed (no reason recorded)') AS error
FROM files f JOIN datasets d ON d.id = f.dataset_id
WHERE f.shard_id IN (SELECT id FROM shards WHERE plan_id = ?) AND f.state = 'failed'
ORDER BY d.repo, f.path`;

interface Tally {
  files: number;
  files_done: number;
  files_failed: number;
  files_running: number;
  bytes: number;
  bytes_done: number;
  bytes_recent: number;
}
const tally = (): Tally => ({ files: 0, files_done: 0, files_failed: 0, files_running: 0, bytes: 0, bytes_done: 0, bytes_recent: 0 });

/**
 * Everything `hfhpc status` shows, read in one short read transaction: one sequential pass
 * over the plan's files aggregated by SQLite, plus the (small) shards, leases and failures.
 * A reader holds the shared lock for tens of milliseconds even on 100,000 files, so it never
 * stalls the workers' writes. Slurm's view is added by the caller (it is not in the database).
 */
export function readStatus(params: ReadStatusParams): StatusReport {
  const { store, rateWindowMs = 300_000 } = params;
  const now = (params.now ?? store.now)();
  return store.read((db) => {
    const plan = (
      params.planId === undefined
        ? db.prepare('SELECT id, job_ids, created_at FROM plans ORDER BY id DESC LIMIT 1').get()
        : db.prepare('SELECT id, job_ids, created_at FROM plans WHERE id = ?').get(params.planId)
    ) as { id: number; job_ids: string; created_at: number } | undefined;
    if (!plan) {
      throw new StateError(params.planId === undefined ? `no plan in ${store.path}` : `no plan ${params.planId} in ${store.path}`, {
        hint: params.planId === undefined ? 'run `hfhpc plan --manifest <file>` first' : 'leave out --plan-id to see the newest plan',
      });
    }
    const planId = plan.id;
    const first = firstClaimAt(db, planId);
    const since = Math.max(now - rateWindowMs, first ?? -Infinity);
    const groups = planFileGroups({ db, planId, createdAt: plan.created_at, since, now });
    const datasetRows = db.prepare('SELECT id, repo, revision, commit_sha FROM datasets WHERE plan_id = ? ORDER BY repo').all(planId) as {
      id: number;
      repo: string;
      revision: string;
      commit_sha: string;
    }[];
    const shardRows = db.prepare(SHARDS_SQL).all(planId) as ShardRow[];
    const failures = db.prepare(FAILURES_SQL).all(planId) as FailureStatus[];
    const throttleRow = db.prepare("SELECT not_before, reason FROM throttle WHERE scope = 'hub' AND not_before > ?").get(now) as
      | { not_before: number; reason: string | null }
      | undefined;

    const leasedShards = new Set(shardRows.filter((s) => s.owner !== null).map((s) => s.id));
    const byDataset = new Map<number, Tally & { leased: boolean }>();
    const byShard = new Map<number, Tally>();
    for (const g of groups) {
      const d = byDataset.get(g.dataset_id) ?? { ...tally(), leased: false };
      const s = byShard.get(g.shard_id) ?? tally();
      for (const t of [d, s]) {
        t.files += g.files;
        t.bytes += g.bytes;
        t.bytes_done += g.bytes_done;
        t.bytes_recent += g.bytes_recent;
        if (g.state === 'done') t.files_done += g.files;
        if (g.state === 'failed') t.files_failed += g.files;
        if (g.state === 'running') t.files_running += g.files;
      }
      if ((g.state === 'pending' || g.state === 'running') && leasedShards.has(g.shard_id)) d.leased = true;
      byDataset.set(g.dataset_id, d);
      byShard.set(g.shard_id, s);
    }

    const seconds = (now - since) / 1000;
    const rateOf = (bytes: number): number | null => (seconds > 0 && bytes > 0 ? bytes / seconds : null);
    const datasets: DatasetStatus[] = datasetRows.map((r) => {
      const t = byDataset.get(r.id) ?? { ...tally(), leased: false };
      const state = deriveState({ files: t.files, done: t.files_done, failed: t.files_failed, running: t.files_running, leased: t.leased });
      const rate = rateOf(t.bytes_recent);
      return {
        repo: r.repo,
        revision: r.revision,
        commit: r.commit_sha,
        files: t.files,
        files_done: t.files_done,
        files_failed: t.files_failed,
        files_running: t.files_running,
        bytes: t.bytes,
        bytes_done: t.bytes_done,
        state,
        rate_bytes_per_s: rate,
        eta_s: eta(t.bytes - t.bytes_done, rate, state),
      };
    });
    const shards: ShardStatus[] = shardRows.map((r) => {
      const t = byShard.get(r.id) ?? tally();
      return {
        index: r.idx,
        state: r.state,
        bytes: r.bytes_total,
        bytes_done: t.bytes_done,
        files: r.files_total,
        files_done: t.files_done,
        owner: r.owner,
        lease_expires_at: r.expires_at === null ? null : new Date(r.expires_at).toISOString(),
        lease_expired: r.expires_at !== null && r.expires_at <= now,
        attempts: r.attempts,
        last_error: r.last_error,
      };
    });
    const sum = (k: keyof Tally): number => [...byDataset.values()].reduce((s, d) => s + d[k], 0);
    const totals = { files: sum('files'), files_done: sum('files_done'), files_failed: sum('files_failed'), bytes: sum('bytes'), bytes_done: sum('bytes_done') };
    const shard_counts: Record<UnitState, number> = { pending: 0, running: 0, done: 0, failed: 0 };
    for (const s of shards) shard_counts[s.state] += 1;
    const state = deriveState({ files: totals.files, done: totals.files_done, failed: totals.files_failed, running: sum('files_running'), leased: leasedShards.size > 0 });
    const rate = rateOf(sum('bytes_recent'));
    return {
      plan_id: planId,
      job_ids: parseJobIds(plan.job_ids),
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

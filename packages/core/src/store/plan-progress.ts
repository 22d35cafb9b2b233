// Everything `hfhpc status` needs from the database, in one short read transaction whose cost
// is O(datasets + shards), whatever the number of files: the counters kept by triggers
// (shard_progress, dataset_progress), the completion buckets inside the rate window (done_rate),
// the leases, the throttle, and a bounded sample of failed files read through an index.
import type { Db, Store } from './open-store.js';
import { planRecord } from './plan.js';
import { noPlanError } from './resolve-plan.js';
import { stmt } from './statements.js';
import type { WorkState } from './types.js';

/** Width of a done_rate bucket (schema version 2): completions are counted per 10 s. */
export const DONE_RATE_BUCKET_MS = 10_000;

export interface ProgressCounts {
  files: number;
  bytes: number;
  filesDone: number;
  filesFailed: number;
  filesRunning: number;
  /** Done files whole; others the bytes on disk, capped at their size. */
  bytesDone: number;
}

export interface DatasetProgress extends ProgressCounts {
  id: number;
  repo: string;
  revision: string;
  commitSha: string;
  /** Bytes of files that became done inside the rate window (10 s buckets). */
  bytesRecent: number;
}

export interface ShardProgress extends ProgressCounts {
  id: number;
  index: number;
  state: WorkState;
  bytesTotal: number;
  filesTotal: number;
  attempts: number;
  lastError: string | null;
  owner: string | null;
  leaseExpiresAt: number | null;
}

export interface FailedFile {
  repo: string;
  path: string;
  error: string;
}

export interface PlanProgress {
  planId: number;
  createdAt: number;
  jobIds: string;
  /** The first claim of the plan (start of its rate window), or null before any. */
  firstClaimAt: number | null;
  /** Start of the rate window actually used: max(now - window, first claim). */
  since: number;
  datasets: DatasetProgress[];
  shards: ShardProgress[];
  /** Up to `failureLimit` failed files, by repo and path. */
  failures: FailedFile[];
  /** True when the plan has more failed files than listed. */
  failuresTruncated: boolean;
  throttle: { notBefore: number; reason: string | null } | null;
}

export interface PlanProgressParams {
  /** Default: the newest plan. */
  planId?: number;
  /** Default: the store's clock. */
  now?: number;
  /** Default 300,000 (5 minutes). */
  rateWindowMs?: number;
  /** Most failed files listed. Default 200: each costs a random page read under the lock. */
  failureLimit?: number;
}

const COUNTS = 'p.files, p.bytes, p.files_done, p.files_failed, p.files_running, p.bytes_done';
const DATASETS_SQL = `
SELECT d.id, d.repo, d.revision, d.commit_sha, ${COUNTS},
       (SELECT COALESCE(SUM(r.bytes), 0) FROM done_rate r WHERE r.dataset_id = d.id AND r.bucket BETWEEN @lo AND @hi) AS bytes_recent
FROM datasets d JOIN dataset_progress p ON p.dataset_id = d.id
WHERE d.plan_id = @planId ORDER BY d.repo`;
const SHARDS_SQL = `
SELECT s.id, s.idx, s.state, s.bytes_total, s.files_total, s.attempts, s.last_error, l.owner, l.expires_at, ${COUNTS}
FROM shards s JOIN shard_progress p ON p.shard_id = s.id LEFT JOIN leases l ON l.shard_id = s.id
WHERE s.plan_id = ? ORDER BY s.idx`;
// Through the (shard_id, state) index, stopping after the limit: never a pass over all files.
const FAILURES_SQL = `
SELECT * FROM (
  SELECT d.repo, f.path, COALESCE(f.last_error, 'failed (no reason recorded)') AS error
  FROM shards s JOIN files f ON f.shard_id = s.id AND f.state = 'failed' JOIN datasets d ON d.id = f.dataset_id
  WHERE s.plan_id = ? LIMIT ?
) ORDER BY repo, path`;
// The rate window starts no earlier than the plan's first claim: a run that began a minute ago
// is not averaged over five. Walks the plan's events in id order and stops at the first claim.
const FIRST_CLAIM_SQL = "SELECT at FROM events WHERE plan_id = ? AND kind = 'claim' ORDER BY id LIMIT 1";

interface RawCounts {
  files: number;
  bytes: number;
  files_done: number;
  files_failed: number;
  files_running: number;
  bytes_done: number;
}
const counts = (r: RawCounts): ProgressCounts => ({
  files: r.files,
  bytes: r.bytes,
  filesDone: r.files_done,
  filesFailed: r.files_failed,
  filesRunning: r.files_running,
  bytesDone: r.bytes_done,
});

/** The plan's progress for status; StateError when there is no such plan. */
export function planProgress(store: Store, params: PlanProgressParams = {}): PlanProgress {
  const now = params.now ?? store.now();
  return store.read((db) => readPlanProgress(db, store.path, { ...params, now }));
}

function readPlanProgress(db: Db, path: string, params: PlanProgressParams & { now: number }): PlanProgress {
  const { now, rateWindowMs = 300_000, failureLimit = 200 } = params;
  const plan = planRecord(db, params.planId);
  if (!plan) throw noPlanError(path, params.planId, { missing: 'leave out --plan-id to see the newest plan' });
  const planId = plan.id;
  const first = (stmt(db, FIRST_CLAIM_SQL).get(planId) as { at: number } | undefined)?.at ?? null;
  const since = Math.max(now - rateWindowMs, first ?? -Infinity);
  const lo = Number.isFinite(since) ? Math.floor(since / DONE_RATE_BUCKET_MS) : Number.MIN_SAFE_INTEGER;
  const hi = Math.floor(now / DONE_RATE_BUCKET_MS);
  const datasets = (stmt(db, DATASETS_SQL).all({ planId, lo, hi }) as (RawCounts & { id: number; repo: string; revision: string; commit_sha: string; bytes_recent: number })[]).map(
    (r) => ({ id: r.id, repo: r.repo, revision: r.revision, commitSha: r.commit_sha, ...counts(r), bytesRecent: r.bytes_recent }),
  );
  const shards = (
    stmt(db, SHARDS_SQL).all(planId) as (RawCounts & {
      id: number; idx: number; state: WorkState; bytes_total: number; files_total: number; attempts: number; last_error: string | null; owner: string | null; expires_at: number | null;
    })[]
  ).map((r) => ({
    id: r.id,
    index: r.idx,
    state: r.state,
    bytesTotal: r.bytes_total,
    filesTotal: r.files_total,
    attempts: r.attempts,
    lastError: r.last_error,
    owner: r.owner,
    leaseExpiresAt: r.expires_at,
    ...counts(r),
  }));
  const failedTotal = shards.reduce((n, s) => n + s.filesFailed, 0);
  const failures = failedTotal > 0 ? (stmt(db, FAILURES_SQL).all(planId, failureLimit) as FailedFile[]) : [];
  const throttle = stmt(db, "SELECT not_before, reason FROM throttle WHERE scope = 'hub' AND not_before > ?").get(now) as
    | { not_before: number; reason: string | null }
    | undefined;
  return {
    planId,
    createdAt: plan.created_at,
    jobIds: plan.job_ids,
    firstClaimAt: first,
    since,
    datasets,
    shards,
    failures,
    failuresTruncated: failedTotal > failures.length,
    throttle: throttle ? { notBefore: throttle.not_before, reason: throttle.reason } : null,
  };
}

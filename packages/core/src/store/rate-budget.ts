// The array's shared request budget (table `rate_budget`, one row per bucket): what the Hub's
// RateLimit headers said, merged across tasks, and the tokens claimed from the current window.
// The arithmetic is core's rate-window.ts; this module only reads and writes the row.
import { grantTokens, mergeWindow, type RateGrant, type RateGuards, type RateWindow } from '../rate-window.js';
import type { Db, Store } from './open-store.js';
import { stmt } from './statements.js';

interface RawBudget {
  bucket: string;
  quota: number;
  window_ms: number;
  reset_lo: number;
  reset_hi: number;
  used: number;
  started_at: number;
  observed_at: number;
  probed_at: number;
  updated_at: number;
  updated_by: string | null;
}

export interface RateBudgetRow extends RateWindow {
  bucket: string;
  updatedAt: number;
  updatedBy: string | null;
}

const toRow = (r: RawBudget): RateBudgetRow => ({
  bucket: r.bucket,
  quota: r.quota,
  windowMs: r.window_ms,
  resetLo: r.reset_lo,
  resetHi: r.reset_hi,
  used: r.used,
  startedAt: r.started_at,
  observedAt: r.observed_at,
  probedAt: r.probed_at,
  updatedAt: r.updated_at,
  updatedBy: r.updated_by,
});

function readRow(db: Db, bucket: string): RateBudgetRow | null {
  const r = stmt(db, 'SELECT * FROM rate_budget WHERE bucket = ?').get(bucket) as RawBudget | undefined;
  return r ? toRow(r) : null;
}

function writeRow(db: Db, bucket: string, w: RateWindow, now: number, by: string | null): void {
  stmt(
    db,
    `INSERT INTO rate_budget (bucket, quota, window_ms, reset_lo, reset_hi, used, started_at, observed_at, probed_at, updated_at, updated_by)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (bucket) DO UPDATE SET quota = excluded.quota, window_ms = excluded.window_ms, reset_lo = excluded.reset_lo,
       reset_hi = excluded.reset_hi, used = excluded.used, started_at = excluded.started_at, observed_at = excluded.observed_at, probed_at = excluded.probed_at,
       updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
  ).run(bucket, w.quota, w.windowMs, w.resetLo, w.resetHi, w.used, w.startedAt, w.observedAt, w.probedAt, now, by);
}

/** The bucket's shared state as stored (not rolled over to now), or null before any task saw the headers. */
export function getRateBudget(store: Store, bucket: string): RateBudgetRow | null {
  return store.read((db) => readRow(db, bucket));
}

export interface ClaimRateBudgetParams {
  bucket: string;
  /** What this task's answers said since its last write (`mergeWindow` of their samples), merged first. */
  seen?: RateWindow | null;
  /** Tokens wanted (0: only record `seen`). */
  want: number;
  /** Requests this task sent without a token since its last write (before the row existed, or when a claim failed): added to the count. */
  unclaimed?: number;
  /** Default: `defaultRateGuards` of the stored policy. */
  guards?: RateGuards;
  /** Lease owner or other name of the task. */
  owner?: string;
}

/**
 * One write transaction: merge `seen` into the bucket's row, then hand out up to `want` tokens of
 * the current window. Null when no task has seen the headers yet (nothing is paced).
 */
export function claimRateBudget(store: Store, params: ClaimRateBudgetParams): RateGrant | null {
  const { bucket, seen, want, guards, owner = null, unclaimed = 0 } = params;
  return store.write((db) => {
    const now = store.now();
    const stored = readRow(db, bucket);
    // The row counts the array's own requests exactly; an answer's count (quota - r) is a lower
    // bound of everyone's. So: max(row + this task's unclaimed requests, the answer's count).
    const base = stored && unclaimed > 0 ? { ...stored, used: stored.used + unclaimed } : stored;
    const merged = seen ? mergeWindow(base, seen) : base;
    if (!merged) return null;
    const grant = grantTokens(merged, { now, want, guards });
    if (!stored || grant.granted > 0 || unclaimed > 0 || !sameWindow(stored, grant.window)) writeRow(db, bucket, grant.window, now, owner);
    return grant;
  });
}

function sameWindow(a: RateWindow, b: RateWindow): boolean {
  return a.quota === b.quota && a.windowMs === b.windowMs && a.resetLo === b.resetLo && a.resetHi === b.resetHi && a.used === b.used && a.startedAt === b.startedAt && a.observedAt === b.observedAt && a.probedAt === b.probedAt;
}

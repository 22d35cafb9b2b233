import type { Db } from '@hfhpc/core';
import type { UnitState } from './status-types.js';

/** Counts of one plan's files per (dataset, shard, state): everything status needs from `files`. */
export interface FileGroup {
  dataset_id: number;
  shard_id: number;
  state: UnitState;
  files: number;
  bytes: number;
  /** Done files whole; others the bytes on disk, capped at the size. */
  bytes_done: number;
  /** Bytes of files that became done inside the rate window (not carried done by a re-plan). */
  bytes_recent: number;
}

// A plan's files are inserted in one transaction, so their rowids form one range: reading that
// range is a sequential scan (tens of ms for 100,000 files), where going through the
// dataset or shard index costs a random lookup per row (ten times more, all under the lock).
const RANGE_SQL = 'SELECT MIN(f.id) AS lo, MAX(f.id) AS hi FROM files f WHERE f.dataset_id IN (SELECT id FROM datasets WHERE plan_id = ?)';
const GROUPS_SQL = `
SELECT dataset_id, shard_id, state, COUNT(*) AS files, SUM(size) AS bytes,
       SUM(CASE WHEN state = 'done' THEN size ELSE MIN(bytes_done, size) END) AS bytes_done,
       SUM(CASE WHEN state = 'done' AND updated_at >= @since AND updated_at <= @now AND updated_at > @created THEN size ELSE 0 END) AS bytes_recent
FROM files
WHERE id BETWEEN @lo AND @hi AND +dataset_id IN (SELECT id FROM datasets WHERE plan_id = @planId) -- `+`: scan the range, not the index
GROUP BY dataset_id, shard_id, state`;

/** One pass over the plan's files, inside the caller's read transaction. */
export function planFileGroups(params: { db: Db; planId: number; createdAt: number; since: number; now: number }): FileGroup[] {
  const { db, planId, createdAt, since, now } = params;
  const range = db.prepare(RANGE_SQL).get(planId) as { lo: number | null; hi: number | null };
  if (range.lo === null || range.hi === null) return [];
  return db.prepare(GROUPS_SQL).all({ lo: range.lo, hi: range.hi, planId, since, now, created: createdAt }) as FileGroup[];
}

// The rate window starts no earlier than the plan's first claim: a run that began a minute ago
// is not averaged over five. Walks the plan's events in id order and stops at the first claim.
const FIRST_CLAIM_SQL = "SELECT at FROM events WHERE plan_id = ? AND kind = 'claim' ORDER BY id LIMIT 1";

export function firstClaimAt(db: Db, planId: number): number | null {
  return (db.prepare(FIRST_CLAIM_SQL).get(planId) as { at: number } | undefined)?.at ?? null;
}

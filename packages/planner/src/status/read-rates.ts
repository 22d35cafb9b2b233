import type { Db } from '@hfhpc/core';

export interface Rates {
  /** Bytes per second over the window for the whole plan; null when nothing finished in it. */
  total: number | null;
  byDataset: Map<number, number>;
}

// Bytes of files that became done inside the window. The store records per-file progress
// (bytes_done, updated_at) but no history of it, so the rate a single look can give is
// "verified bytes per second"; `status --watch` refines it from bytes_done deltas between
// refreshes (see watchRate).
const DONE_IN_WINDOW_SQL = `
SELECT f.dataset_id AS dataset_id, SUM(f.size) AS bytes
FROM files f JOIN datasets d ON d.id = f.dataset_id
JOIN plans p ON p.id = d.plan_id
WHERE d.plan_id = ? AND f.state = 'done' AND f.updated_at >= ? AND f.updated_at <= ?
  AND f.updated_at > p.created_at -- done when planned (carried over by a re-plan): not transferred now
GROUP BY f.dataset_id`;

// The window starts no earlier than the plan's first claim: a run that began a minute ago is
// not averaged over five.
const FIRST_CLAIM_SQL = "SELECT MIN(at) AS at FROM events WHERE plan_id = ? AND kind = 'claim'";

/** Transfer rates over [since, now], inside the caller's read transaction. */
export function readRates(params: { db: Db; planId: number; since: number; now: number }): Rates {
  const { db, planId, now } = params;
  const first = (db.prepare(FIRST_CLAIM_SQL).get(planId) as { at: number | null }).at;
  const since = first === null ? params.since : Math.max(params.since, first);
  const seconds = (now - since) / 1000;
  const rows = db.prepare(DONE_IN_WINDOW_SQL).all(planId, since, now) as { dataset_id: number; bytes: number }[];
  const byDataset = new Map<number, number>();
  let sum = 0;
  if (seconds > 0) {
    for (const r of rows) {
      byDataset.set(r.dataset_id, r.bytes / seconds);
      sum += r.bytes;
    }
  }
  return { total: seconds > 0 && sum > 0 ? sum / seconds : null, byDataset };
}

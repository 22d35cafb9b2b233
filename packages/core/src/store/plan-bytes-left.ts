// What a plan still has to write to disk, for the disk-full message: the space to free is what
// the whole plan needs, not the remainder of the blob that hit ENOSPC.
import type { Store } from './open-store.js';
import { stmt } from './statements.js';

// Files of unfinished shards only (a done shard has nothing left), through the (shard_id, state)
// index; a blob shared by several files is written once, so it counts once, minus the bytes
// already in its partial file.
const PLAN_BYTES_LEFT = `
SELECT COALESCE(SUM(left_), 0) AS bytes FROM (
  SELECT MAX(f.size - f.bytes_done) AS left_
  FROM shards s JOIN files f ON f.shard_id = s.id AND f.state IN ('pending', 'running', 'failed')
  WHERE s.plan_id = ? AND s.state != 'done'
  GROUP BY f.blob
)`;

/** Bytes the plan's unfinished files still need on disk (each blob once, partial bytes deducted). */
export function planBytesLeft(store: Store, planId: number): number {
  return store.read((db) => (stmt(db, PLAN_BYTES_LEFT).get(planId) as { bytes: number }).bytes);
}

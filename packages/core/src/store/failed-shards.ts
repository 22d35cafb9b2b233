// `plan --resubmit-failed`: the failed shards of a plan, and giving them (and their failed files)
// another go. One write transaction, so a worker that claims concurrently sees either the old or
// the new state.
import { insertEvent } from './events.js';
import type { Store } from './open-store.js';
import { stmt } from './statements.js';

const FAILED = "SELECT id, idx FROM shards WHERE plan_id = ? AND state = 'failed' ORDER BY idx";

/** The indices of the plan's failed shards, ascending. */
export function failedShardIndices(store: Store, planId: number): number[] {
  return store.read((db) => (stmt(db, FAILED).all(planId) as { idx: number }[]).map((r) => r.idx));
}

/** Sends failed shards and their failed files back to pending; returns the shard indices, ascending. */
export function resetFailedShards(store: Store, planId: number): number[] {
  return store.write((db) => {
    const shards = stmt(db, FAILED).all(planId) as { id: number; idx: number }[];
    if (shards.length === 0) return [];
    const ids = JSON.stringify(shards.map((s) => s.id));
    const now = store.now();
    // attempts are kept (history); last_error is cleared so status shows the retry fresh.
    const files = stmt(db, "UPDATE files SET state = 'pending', last_error = NULL, updated_at = ? WHERE state = 'failed' AND shard_id IN (SELECT value FROM json_each(?))").run(
      now,
      ids,
    ).changes;
    stmt(db, "UPDATE shards SET state = 'pending', last_error = NULL WHERE id IN (SELECT value FROM json_each(?))").run(ids);
    const indices = shards.map((s) => s.idx);
    insertEvent(db, now, { kind: 'resubmit-failed', planId, detail: { shards: indices, files } });
    return indices;
  });
}

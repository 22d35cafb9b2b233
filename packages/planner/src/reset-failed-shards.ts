// `plan --resubmit-failed`: give the failed shards of a plan (and their failed files) another
// go. One write transaction, so a worker that claims concurrently sees either the old or the new
// state. The store has no such operation; this is the one write it needs.
import { appendEvent, type Store } from '@hfhpc/core';

export interface ResetFailedShardsParams {
  store: Store;
  planId: number;
}

/** Sends failed shards and their failed files back to pending; returns the shard indices, ascending. */
export function resetFailedShards(params: ResetFailedShardsParams): number[] {
  const { store, planId } = params;
  return store.write((db) => {
    const shards = db.prepare("SELECT id, idx FROM shards WHERE plan_id = ? AND state = 'failed' ORDER BY idx").all(planId) as { id: number; idx: number }[];
    if (shards.length === 0) return [];
    const ids = JSON.stringify(shards.map((s) => s.id));
    const now = store.now();
    // attempts are kept (history); last_error is cleared so status shows the retry fresh.
    const files = db
      .prepare("UPDATE files SET state = 'pending', last_error = NULL, updated_at = ? WHERE state = 'failed' AND shard_id IN (SELECT value FROM json_each(?))")
      .run(now, ids).changes;
    db.prepare("UPDATE shards SET state = 'pending', last_error = NULL WHERE id IN (SELECT value FROM json_each(?))").run(ids);
    const indices = shards.map((s) => s.idx);
    appendEvent(store, { kind: 'resubmit-failed', planId, detail: { shards: indices, files } });
    return indices;
  });
}

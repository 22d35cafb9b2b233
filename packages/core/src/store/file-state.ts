// Per-file state changes. Those made by a worker are fenced: they carry the Claim and are
// refused (StaleFenceError, nothing written) once the shard has moved on to another holder.
import { InternalError } from '../errors.js';
import { insertEvent } from './events.js';
import { assertFence } from './fence.js';
import type { Db, Store } from './open-store.js';
import { stmt } from './statements.js';
import type { Claim } from './types.js';

/** Longest last_error kept; Hub error bodies can be large. */
const MAX_ERROR_CHARS = 2000;

function mustChange(changes: number, claim: Claim, fileId: number): void {
  if (changes !== 1) {
    throw new InternalError(`file ${fileId} is not part of shard ${claim.index} of plan ${claim.planId}`, {
      hint: 'this is a bug in hfhpc; please report it',
      context: { fileId, shardId: claim.shardId },
    });
  }
}

/** The worker starts fetching the file. */
export function markFileRunning(store: Store, claim: Claim, params: { fileId: number }): void {
  store.write((db) => {
    assertFence(db, claim);
    const r = stmt(db, "UPDATE files SET state = 'running', updated_at = ? WHERE id = ? AND shard_id = ?").run(store.now(), params.fileId, claim.shardId);
    mustChange(r.changes, claim, params.fileId);
  });
}

/** The file is verified and in place. `bytes` defaults to the file's size. */
export function markFileDone(store: Store, claim: Claim, params: { fileId: number; bytes?: number }): void {
  store.write((db) => {
    assertFence(db, claim);
    const r = stmt(
      db,
      "UPDATE files SET state = 'done', bytes_done = COALESCE(?, size), last_error = NULL, updated_at = ? WHERE id = ? AND shard_id = ?",
    ).run(params.bytes ?? null, store.now(), params.fileId, claim.shardId);
    mustChange(r.changes, claim, params.fileId);
  });
}

/** The file could not be fetched (after the engine's own retries): attempts+1, reason kept. */
export function markFileFailed(store: Store, claim: Claim, params: { fileId: number; error: string }): void {
  store.write((db) => {
    assertFence(db, claim);
    const now = store.now();
    const error = params.error.slice(0, MAX_ERROR_CHARS);
    const r = stmt(
      db,
      "UPDATE files SET state = 'failed', attempts = attempts + 1, last_error = ?, updated_at = ? WHERE id = ? AND shard_id = ?",
    ).run(error, now, params.fileId, claim.shardId);
    mustChange(r.changes, claim, params.fileId);
    insertEvent(db, now, { kind: 'file-failed', planId: claim.planId, shardId: claim.shardId, fileId: params.fileId, owner: claim.owner, detail: { error } });
  });
}

/**
 * Send a file back to pending (verify found it bad or missing): bytes_done 0, and its shard,
 * if finished, back to pending so a worker fetches it again. Unfenced: an admin operation.
 */
export function resetFile(store: Store, params: { fileId: number; reason?: string }): void {
  store.write((db) => {
    const now = store.now();
    const f = stmt(db, 'SELECT f.shard_id, s.plan_id FROM files f JOIN shards s ON s.id = f.shard_id WHERE f.id = ?').get(params.fileId) as
      | { shard_id: number; plan_id: number }
      | undefined;
    if (!f) throw new InternalError(`no file ${params.fileId} to reset`, { hint: 'this is a bug in hfhpc; please report it' });
    stmt(db, "UPDATE files SET state = 'pending', bytes_done = 0, last_error = ?, updated_at = ? WHERE id = ?").run(params.reason ?? null, now, params.fileId);
    reopenShard(db, f.shard_id);
    insertEvent(db, now, { kind: 'file-reset', planId: f.plan_id, shardId: f.shard_id, fileId: params.fileId, detail: { reason: params.reason ?? null } });
  });
}

/** A finished shard with work again becomes pending; a running one is left to its holder. */
function reopenShard(db: Db, shardId: number): void {
  stmt(db, "UPDATE shards SET state = 'pending', last_error = NULL WHERE id = ? AND state IN ('done', 'failed')").run(shardId);
}

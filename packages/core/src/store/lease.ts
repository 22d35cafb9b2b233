// Shard leases: claim, heartbeat, release, finish, expire. Each is one BEGIN IMMEDIATE
// transaction, so two tasks can never both believe they hold the same shard.
import { LeaseLostError, UsageError } from '../errors.js';
import { insertEvent } from './events.js';
import { assertFence } from './fence.js';
import type { Db, Store } from './open-store.js';
import { stmt } from './statements.js';
import type { Claim, WorkState } from './types.js';

export interface ClaimShardParams {
  planId: number;
  /** Lease owner, see leaseOwner(). */
  owner: string;
  /** The caller's own shard (its array task index), tried first. Default: none. */
  preferIndex?: number;
  /** Lease lifetime in ms; renew with heartbeat() well before it runs out. */
  ttlMs: number;
  /** When the own shard is not available, take any pending, then any expired shard. Default true. */
  steal?: boolean;
}

type Candidate = { id: number; idx: number; prev_owner: string | null };

// A running shard whose lease expired (or vanished) is up for grabs.
const CLAIMABLE = "(s.state = 'pending' OR (s.state = 'running' AND (l.expires_at IS NULL OR l.expires_at <= ?)))";

/**
 * Lease one shard of the plan: the own index if pending or expired, else (steal) the largest
 * pending shard, else the longest-expired running one. Raises the shard's fence and attempts.
 * Returns null when nothing is claimable.
 */
export function claimShard(store: Store, params: ClaimShardParams): Claim | null {
  const { planId, owner, preferIndex, ttlMs, steal = true } = params;
  checkTtl(ttlMs);
  return store.write((db) => {
    const now = store.now();
    let via: 'own' | 'pending' | 'expired' = 'own';
    let c: Candidate | undefined;
    if (preferIndex !== undefined) {
      c = stmt(
        db,
        `SELECT s.id, s.idx, l.owner AS prev_owner FROM shards s LEFT JOIN leases l ON l.shard_id = s.id
         WHERE s.plan_id = ? AND s.idx = ? AND ${CLAIMABLE}`,
      ).get(planId, preferIndex, now) as Candidate | undefined;
    }
    if (!c && steal) {
      via = 'pending';
      c = stmt(
        db,
        `SELECT id, idx, NULL AS prev_owner FROM shards WHERE plan_id = ? AND state = 'pending'
         ORDER BY bytes_total DESC, idx LIMIT 1`,
      ).get(planId) as Candidate | undefined;
    }
    if (!c && steal) {
      via = 'expired';
      c = stmt(
        db,
        `SELECT s.id, s.idx, l.owner AS prev_owner FROM shards s LEFT JOIN leases l ON l.shard_id = s.id
         WHERE s.plan_id = ? AND s.state = 'running' AND (l.expires_at IS NULL OR l.expires_at <= ?)
         ORDER BY l.expires_at, s.idx LIMIT 1`,
      ).get(planId, now) as Candidate | undefined;
    }
    if (!c) return null;

    const { fence } = stmt(db, "UPDATE shards SET fence = fence + 1, attempts = attempts + 1, state = 'running' WHERE id = ? RETURNING fence").get(c.id) as {
      fence: number;
    };
    resetRunningFiles(db, c.id);
    const expiresAt = now + ttlMs;
    stmt(
      db,
      `INSERT INTO leases (shard_id, owner, fence, acquired_at, heartbeat_at, expires_at) VALUES (@shardId, @owner, @fence, @now, @now, @expiresAt)
       ON CONFLICT (shard_id) DO UPDATE SET owner = @owner, fence = @fence, acquired_at = @now, heartbeat_at = @now, expires_at = @expiresAt`,
    ).run({ shardId: c.id, owner, fence, now, expiresAt });
    insertEvent(db, now, { kind: 'claim', planId, shardId: c.id, owner, detail: { index: c.idx, fence, via, previousOwner: c.prev_owner } });
    return { shardId: c.id, planId, index: c.idx, fence, owner, expiresAt };
  });
}

/** Renew the lease for another `ttlMs`; LeaseLostError when it is no longer this claim's. */
export function heartbeat(store: Store, claim: Claim, params: { ttlMs: number }): Claim {
  checkTtl(params.ttlMs);
  return store.write((db) => {
    const now = store.now();
    const row = stmt(db, 'SELECT s.fence, l.owner, l.fence AS lease_fence FROM shards s LEFT JOIN leases l ON l.shard_id = s.id WHERE s.id = ?').get(
      claim.shardId,
    ) as { fence: number; owner: string | null; lease_fence: number | null } | undefined;
    if (!row || row.fence !== claim.fence || row.owner !== claim.owner || row.lease_fence !== claim.fence) {
      throw new LeaseLostError(`lease on shard ${claim.index} of plan ${claim.planId} is lost (${row?.owner ? `now held by ${row.owner}` : 'no lease'})`, {
        hint: 'the lease expired and was taken or revoked; this task stops work on the shard (renew it more often with a longer --lease-ttl)',
        context: { planId: claim.planId, shardId: claim.shardId, fence: claim.fence, current: row?.fence ?? null, holder: row?.owner ?? null },
      });
    }
    const expiresAt = now + params.ttlMs;
    stmt(db, 'UPDATE leases SET heartbeat_at = ?, expires_at = ? WHERE shard_id = ?').run(now, expiresAt, claim.shardId);
    return { ...claim, expiresAt };
  });
}

/** Give the shard back (signal, shutdown): state pending, lease removed, fence raised. */
export function releaseLease(store: Store, claim: Claim, params: { reason?: string } = {}): void {
  const { reason = 'released' } = params;
  store.write((db) => {
    assertFence(db, claim);
    stmt(db, "UPDATE shards SET state = CASE state WHEN 'running' THEN 'pending' ELSE state END, fence = fence + 1 WHERE id = ?").run(claim.shardId);
    resetRunningFiles(db, claim.shardId);
    stmt(db, 'DELETE FROM leases WHERE shard_id = ?').run(claim.shardId);
    insertEvent(db, store.now(), { kind: 'release', planId: claim.planId, shardId: claim.shardId, owner: claim.owner, detail: { index: claim.index, fence: claim.fence, reason } });
  });
}

export interface FinishResult {
  /** done: every file done; failed: some file failed; pending: files left over (claimable again). */
  state: Exclude<WorkState, 'running'>;
  filesDone: number;
  filesFailed: number;
  filesLeft: number;
  lastError: string | null;
}

/** Close the shard after working through its files: done, failed (with last_error) or pending. */
export function finishShard(store: Store, claim: Claim): FinishResult {
  return store.write((db) => {
    assertFence(db, claim);
    // The shard's counters (kept by triggers), not a pass over its files.
    const n = stmt(db, 'SELECT files_done AS done, files_failed AS failed, files - files_done - files_failed AS left FROM shard_progress WHERE shard_id = ?').get(
      claim.shardId,
    ) as { done: number | null; failed: number | null; left: number | null } | undefined ?? { done: 0, failed: 0, left: 0 };
    const filesDone = n.done ?? 0;
    const filesFailed = n.failed ?? 0;
    const filesLeft = n.left ?? 0;
    let lastError: string | null = null;
    if (filesFailed > 0) {
      const f = stmt(db, "SELECT path, last_error FROM files WHERE shard_id = ? AND state = 'failed' ORDER BY updated_at DESC, id DESC LIMIT 1").get(
        claim.shardId,
      ) as { path: string; last_error: string | null };
      lastError = `${filesFailed} file(s) failed; last: ${f.path}: ${f.last_error ?? 'unknown error'}`;
    }
    const state = filesFailed > 0 ? 'failed' : filesLeft > 0 ? 'pending' : 'done';
    stmt(db, 'UPDATE shards SET state = ?, last_error = ?, fence = fence + 1 WHERE id = ?').run(state, lastError, claim.shardId);
    resetRunningFiles(db, claim.shardId);
    stmt(db, 'DELETE FROM leases WHERE shard_id = ?').run(claim.shardId);
    insertEvent(db, store.now(), {
      kind: 'finish',
      planId: claim.planId,
      shardId: claim.shardId,
      owner: claim.owner,
      detail: { index: claim.index, fence: claim.fence, state, filesDone, filesFailed, filesLeft },
    });
    return { state, filesDone, filesFailed, filesLeft, lastError };
  });
}

export interface ExpiredLease {
  shardId: number;
  planId: number;
  index: number;
  owner: string;
  fence: number;
  expiresAt: number;
}

/** Remove every lease past its expiry (cleanup): shards back to pending, fences raised. */
export function expireLeases(store: Store): ExpiredLease[] {
  return store.write((db) => {
    const now = store.now();
    const rows = stmt(
      db,
      'SELECT l.shard_id, s.plan_id, s.idx, l.owner, l.fence, l.expires_at FROM leases l JOIN shards s ON s.id = l.shard_id WHERE l.expires_at <= ? ORDER BY l.expires_at',
    ).all(now) as { shard_id: number; plan_id: number; idx: number; owner: string; fence: number; expires_at: number }[];
    for (const r of rows) {
      stmt(db, "UPDATE shards SET state = CASE state WHEN 'running' THEN 'pending' ELSE state END, fence = fence + 1 WHERE id = ?").run(r.shard_id);
      resetRunningFiles(db, r.shard_id);
      stmt(db, 'DELETE FROM leases WHERE shard_id = ?').run(r.shard_id);
      insertEvent(db, now, { kind: 'expire', planId: r.plan_id, shardId: r.shard_id, owner: r.owner, detail: { index: r.idx, fence: r.fence, expiresAt: r.expires_at } });
    }
    return rows.map((r) => ({ shardId: r.shard_id, planId: r.plan_id, index: r.idx, owner: r.owner, fence: r.fence, expiresAt: r.expires_at }));
  });
}

/** Files left 'running' by a previous holder are not being fetched by anyone now. */
function resetRunningFiles(db: Db, shardId: number): void {
  stmt(db, "UPDATE files SET state = 'pending' WHERE shard_id = ? AND state = 'running'").run(shardId);
}

function checkTtl(ttlMs: number): void {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) {
    throw new UsageError(`Expected the lease ttl to be a positive number of milliseconds, got \`${ttlMs}\` (${typeof ttlMs})`, {
      hint: 'pass a positive --lease-ttl',
    });
  }
}

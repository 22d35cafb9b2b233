// Reading leases across every plan (cleanup decides which holders are still alive).
import type { Store } from './open-store.js';
import { stmt } from './statements.js';

export interface LeaseRow {
  shardId: number;
  planId: number;
  index: number;
  owner: string;
  /** The fence the lease was taken with (the shard's current one while the lease stands). */
  fence: number;
  heartbeatAt: number;
  expiresAt: number;
}

const LIST_LEASES = `
SELECT l.shard_id, s.plan_id, s.idx, l.owner, l.fence, l.heartbeat_at, l.expires_at
FROM leases l JOIN shards s ON s.id = l.shard_id ORDER BY l.expires_at`;

/** Every lease of every plan: O(shards). */
export function listLeases(store: Store): LeaseRow[] {
  const rows = store.read((db) => stmt(db, LIST_LEASES).all()) as {
    shard_id: number;
    plan_id: number;
    idx: number;
    owner: string;
    fence: number;
    heartbeat_at: number;
    expires_at: number;
  }[];
  return rows.map((r) => ({ shardId: r.shard_id, planId: r.plan_id, index: r.idx, owner: r.owner, fence: r.fence, heartbeatAt: r.heartbeat_at, expiresAt: r.expires_at }));
}

const LEASED_BLOBS = 'SELECT DISTINCT f.blob, f.shard_id FROM files f JOIN leases l ON l.shard_id = f.shard_id';

/** The blobs of every leased shard, with the shard: O(files of leased shards). */
export function leasedBlobs(store: Store): { blob: string; shardId: number }[] {
  return (store.read((db) => stmt(db, LEASED_BLOBS).all()) as { blob: string; shard_id: number }[]).map((r) => ({ blob: r.blob, shardId: r.shard_id }));
}

// The fencing check: a write about a shard is accepted only while the writer's token is the
// shard's current one. Claims and revocations (release, finish, expire) raise the shard's
// fence, so a task that lost its lease (paused, partitioned, killed and replaced) can never
// overwrite what the new owner records.
import { StaleFenceError } from '../errors.js';
import type { Db, Store } from './open-store.js';
import { stmt } from './statements.js';
import type { Claim } from './types.js';

/** Throw StaleFenceError unless the shard's fence still equals the claim's. Call inside the write. */
export function assertFence(db: Db, claim: Claim): void {
  const row = stmt(db, 'SELECT fence FROM shards WHERE id = ?').get(claim.shardId) as { fence: number } | undefined;
  if (row?.fence === claim.fence) return;
  throw new StaleFenceError(
    `shard ${claim.index} of plan ${claim.planId}: fencing token ${claim.fence} of ${claim.owner} is stale (shard is at ${row?.fence ?? 'deleted'})`,
    {
      hint: 'this task lost its lease (it expired and the shard was claimed again, released or expired); it stops and leaves the shard to its new owner',
      context: { planId: claim.planId, shardId: claim.shardId, index: claim.index, fence: claim.fence, current: row?.fence ?? null, owner: claim.owner },
    },
  );
}

/**
 * `assertFence` as a store call: inside the caller's `store.write`/`writeAsync` it joins that
 * transaction, so what follows in it is written only while the claim still holds.
 */
export function assertClaimFence(store: Store, claim: Claim): void {
  store.read((db) => assertFence(db, claim));
}

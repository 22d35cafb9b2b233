import { claimShard, planBytesLeft, type Claim } from '@hfhpc/core';
import { withPlanBytesLeft } from './disk-error.js';
import { takeBackDeadLeases } from './lease-release.js';
import { workOnShard, type WorkOnShardParams } from './work-on-shard.js';
import type { WorkerResult } from './worker-types.js';

export interface ClaimLoopParams extends Omit<WorkOnShardParams, 'claim' | 'metaDone'> {
  planId: number;
  taskId: number;
  owner: string;
  host: string;
  /** Go on with pending or expired shards of other tasks after the own one. */
  steal: boolean;
}

/** The next shard for this task: its own first, then (stealing) any claimable one. */
async function claimNext(p: ClaimLoopParams): Promise<Claim | null> {
  const { store, planId, owner, taskId, ttlMs, steal } = p;
  const claim = await store.writeAsync(() => claimShard(store, { planId, owner, preferIndex: taskId, ttlMs, steal }));
  if (claim) return claim;
  // A shard held by a process of this host that no longer exists (killed, or it could not
  // release its lease) is taken back now rather than after its lease runs out.
  const takenBack = await takeBackDeadLeases({ store, planId, host: p.host, owner, now: p.now, log: p.log });
  return takenBack > 0 ? store.writeAsync(() => claimShard(store, { planId, owner, preferIndex: taskId, ttlMs, steal })) : null;
}

/** Claim and work on shards until none is left (or one stop condition holds); a stop signal ends the loop. */
export async function claimLoop(p: ClaimLoopParams): Promise<WorkerResult> {
  const { store, planId, log } = p;
  const result: WorkerResult = { planId, taskId: p.taskId, shards: [], filesDone: 0, failures: [] };
  const metaDone = new Set<number>();
  const claimsPerShard = new Map<number, number>();
  while (!p.signals.signal.aborted) {
    const claim = await claimNext(p);
    if (!claim) break;
    const n = (claimsPerShard.get(claim.shardId) ?? 0) + 1;
    claimsPerShard.set(claim.shardId, n);
    log.info(`claimed shard ${claim.index} (fence ${claim.fence})`);
    const outcome = await workOnShard({ ...p, claim, metaDone }).catch((err: unknown) => {
      throw withPlanBytesLeft(err, () => planBytesLeft(store, planId));
    });
    result.shards.push({ index: claim.index, state: outcome.state });
    result.filesDone += outcome.filesDone;
    result.failures.push(...outcome.failures);
    log.info(`shard ${claim.index}: ${outcome.state}${outcome.failures.length ? ` (${outcome.failures.length} file(s) failed)` : ''}`);
    // A shard that finishes with files left is claimable again; do not spin on it.
    if (!p.steal || (outcome.state === 'pending' && n >= 2)) break;
  }
  return result;
}

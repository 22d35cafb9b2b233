import { InternalError, InterruptedError, StateError, leaseHolderAlive, listLeases, parseLeaseOwner, releaseLease, toHfhpcError, type Claim, type Logger, type Store } from '@hfhpc/core';
import { isLeaseError } from './shard-lease.js';

/** Exit 1: the lease stays until it expires; the message says when. */
export function cannotRelease(claim: Claim, relErr: unknown, cause?: unknown): StateError {
  const why = cause instanceof Error ? ` after: ${cause.message}` : '';
  // What the database error means for the user (read-only, moved or deleted, locked…).
  const mapped = toHfhpcError(relErr);
  const meaning = (!(mapped instanceof InternalError) && mapped.hint) || 'the state database could not be written (full disk, locked, read-only?): fix that';
  return new StateError(
    `state database: could not release the lease on shard ${claim.index} (${(relErr as Error).message})${why}; the lease expires at ${new Date(claim.expiresAt).toISOString()}, then any task can take the shard`,
    {
      cause: relErr,
      hint: `${meaning}; the shard is resumed once its lease expires (hfhpc cleanup expires it after that time)`,
      context: { shard: claim.index, fence: claim.fence, expiresAt: claim.expiresAt },
    },
  );
}

/**
 * Release the leases of shards of this plan still held by another process of this host that no
 * longer exists. Returns how many were taken back.
 */
export async function takeBackDeadLeases(params: { store: Store; planId: number; host: string; owner: string; now: () => number; log: Logger }): Promise<number> {
  const { store, planId, host, owner, log } = params;
  const self = parseLeaseOwner(owner);
  let n = 0;
  // A lease row carries everything a Claim does: it is released as the claim it records.
  const others = (await store.readAsync(() => listLeases(store))).filter((l) => l.planId === planId && l.owner !== owner);
  for (const l of others) {
    // Slurm runs one instance of an array task at a time: a lease of this very task from another
    // host or pid is a previous run's (requeued after a node failure or a timeout).
    const sameSlurmTask = self?.job !== undefined && self.job !== 'local' && parseLeaseOwner(l.owner)?.job === self.job;
    if (!sameSlurmTask && leaseHolderAlive({ owner: l.owner, expiresAt: l.expiresAt, now: params.now(), host })) continue;
    try {
      const why = sameSlurmTask ? 'an earlier run of this array task' : `its pid no longer exists on ${host}`;
      await store.writeAsync(() => releaseLease(store, l, { reason: `holder ${l.owner} is gone: ${why}` }));
      log.info(`took back shard ${l.index}: its holder ${l.owner} is no longer running (${why})`);
      n++;
    } catch (err) {
      if (!isLeaseError(err)) throw err;
    }
  }
  return n;
}

/**
 * Shards of this plan still leased to this very process once it has nothing left to claim
 * (none in normal operation): released, then InterruptedError (exit 75, safe to requeue); when
 * the release fails, StateError (exit 1) naming when the lease runs out.
 */
export async function giveBackLeftovers(params: { store: Store; planId: number; owner: string; log: Logger }): Promise<void> {
  const { store, planId, owner, log } = params;
  const mine = (await store.readAsync(() => listLeases(store))).filter((l) => l.planId === planId && l.owner === owner);
  if (mine.length === 0) return;
  for (const l of mine) {
    try {
      await store.writeAsync(() => releaseLease(store, l, { reason: 'left unfinished by its holder' }));
      log.warn(`released the lease on shard ${l.index}, which this task could not finish`);
    } catch (err) {
      if (isLeaseError(err)) continue;
      throw cannotRelease(l, err);
    }
  }
  throw new InterruptedError(`shard(s) ${mine.map((l) => l.index).join(', ')} left unfinished; lease(s) released`, {
    hint: 'run the task again (Slurm requeue): it resumes the shard(s) from their partial files',
  });
}

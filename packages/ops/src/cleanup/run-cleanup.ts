import { rm } from 'node:fs/promises';
import path from 'node:path';
import { hostname } from 'node:os';
import {
  CacheDirs, StaleFenceError, countPrunableEvents, expireLeases, leaseHolderAlive, leasedBlobs, listLeases, neededBlobs, pruneEvents, releaseLease, repoFolderName, type LeaseRow, type Store,
} from '@hfhpc/core';
import { quarantineDir } from '../verify/quarantine.js';
import { findPartials, type PartialFile } from './find-partials.js';

/** Why a partial file was kept or removed. */
export type PartialVerdict =
  /** Its writer is alive and still holds its lease (same host: the pid exists; elsewhere: the lease has not expired). */
  | 'in-use'
  /** A file of the newest plan still needs it and no task holds it: the next task resumes it. */
  | 'resumable'
  /** Nothing needs it (its file is done, or no longer planned). */
  | 'orphan';

export interface CleanupPartial extends PartialFile {
  verdict: PartialVerdict;
  removed: boolean;
}

export interface CleanupReport {
  dry_run: boolean;
  /** `holder_gone`: not expired yet, but held on this host by a pid that no longer exists. */
  expired_leases: { shard: number; plan_id: number; owner: string; expired_at: string; holder_gone?: true }[];
  partials: CleanupPartial[];
  /** Corrupt blobs `verify` moved aside. */
  quarantine_removed: string[];
  events_pruned: number;
  bytes_freed: number;
}

export interface RunCleanupParams {
  store: Store;
  root: string;
  /** Report only; change nothing. Default false. */
  dryRun?: boolean;
  /** Also remove resumable partials (their bytes are fetched again). Default false. */
  removeResumable?: boolean;
  /** Events older than this many ms are deleted (except `verified` ones). Default 30 days. */
  eventsMaxAgeMs?: number;
  /** This host's name: a lease held here by a pid that no longer exists is dead. Default `os.hostname()`. */
  host?: string;
  /** Default: `process.kill(pid, 0)` (see core `pidAlive`). */
  isPidAlive?: (pid: number) => boolean;
}

/**
 * Expire dead leases (past their expiry, or held on this host by a pid that is gone: shards
 * back to pending), then remove the `.incomplete` files nothing
 * will resume, the quarantined corrupt blobs, and old events. Complete blobs are never touched.
 * The set of leases is read after expiring, so a partial of a shard that was just released
 * counts as resumable, not in use.
 */
export async function runCleanup(params: RunCleanupParams): Promise<CleanupReport> {
  const { store, root, dryRun = false, removeResumable = false, eventsMaxAgeMs = 30 * 86_400_000 } = params;
  const host = params.host ?? hostname();
  const now = store.now();
  const alive = (l: LeaseRow): boolean => leaseHolderAlive({ owner: l.owner, expiresAt: l.expiresAt, now, host, isPidAlive: params.isPidAlive });
  const expired = dryRun
    ? listLeases(store).filter((l) => l.expiresAt <= now)
    : expireLeases(store);
  const gone = releaseGoneHolders(store, { now, host, dryRun, alive });
  const partials = await sortPartials(store, root, { dryRun, removeResumable, alive });
  const quarantined = await emptyQuarantine(root, dryRun);
  // `verified` events are verify's record of what it checked: pruning them would re-hash terabytes.
  const prune = { before: now - eventsMaxAgeMs, keepKinds: ['verified'] };
  const eventsPruned = dryRun ? countPrunableEvents(store, prune) : pruneEvents(store, prune);

  return {
    dry_run: dryRun,
    expired_leases: [
      ...expired.map((e) => ({ shard: e.index, plan_id: e.planId, owner: e.owner, expired_at: new Date(e.expiresAt).toISOString() })),
      ...gone.map((e) => ({ shard: e.index, plan_id: e.planId, owner: e.owner, expired_at: new Date(e.expiresAt).toISOString(), holder_gone: true as const })),
    ],
    partials,
    quarantine_removed: quarantined.map((q) => path.relative(root, q.path)),
    events_pruned: eventsPruned,
    bytes_freed: partials.reduce((n, p) => n + (p.removed ? p.size : 0), 0) + quarantined.reduce((n, q) => n + q.size, 0),
  };
}

/** Unexpired leases whose holder is gone from this host (killed, or it could not release). */
function releaseGoneHolders(store: Store, o: { now: number; host: string; dryRun: boolean; alive: (l: LeaseRow) => boolean }): LeaseRow[] {
  const gone: LeaseRow[] = [];
  for (const l of listLeases(store).filter((row) => row.expiresAt > o.now && !o.alive(row))) {
    if (!o.dryRun) {
      try {
        releaseLease(store, l, { reason: `cleanup: holder ${l.owner} is no longer running on ${o.host}` });
      } catch (err) {
        if (err instanceof StaleFenceError) continue;
        throw err;
      }
    }
    gone.push(l);
  }
  return gone;
}

/** Each partial in use, resumable or orphan; orphans (and resumables when asked) removed. */
async function sortPartials(store: Store, root: string, o: { dryRun: boolean; removeResumable: boolean; alive: (l: LeaseRow) => boolean }): Promise<CleanupPartial[]> {
  const live = listLeases(store).filter(o.alive);
  const liveShards = new Set(live.map((l) => l.shardId));
  const liveClaims = new Set(live.map((l) => `${l.planId}/${l.index}/${l.fence}`));
  const leased = new Set(leasedBlobs(store).filter((b) => liveShards.has(b.shardId)).map((b) => b.blob));
  const needed = new Set(neededBlobs(store).map((r) => `${repoFolderName(r.repo)}/${r.blob}`));
  // A claim's own partial is in use only while that very claim (plan, shard, fence) holds a live
  // lease; the legacy shared name while any live lease's shard has its blob.
  const inUse = (p: PartialFile): boolean => (p.claim ? liveClaims.has(`${p.claim.planId}/${p.claim.index}/${p.claim.fence}`) : !p.superseded && leased.has(p.blob));

  const partials: CleanupPartial[] = [];
  for (const p of await findPartials({ root })) {
    // A partial a takeover moved aside is never resumed: its bytes went into the new holder's.
    const verdict: PartialVerdict = inUse(p) ? 'in-use' : !p.superseded && needed.has(`${p.repoFolder}/${p.blob}`) ? 'resumable' : 'orphan';
    const remove = verdict === 'orphan' || (verdict === 'resumable' && o.removeResumable);
    if (remove && !o.dryRun) await rm(p.path, { force: true });
    partials.push({ ...p, verdict, removed: remove });
  }
  return partials;
}

/** The quarantined blobs, removed unless dry run. */
async function emptyQuarantine(root: string, dryRun: boolean): Promise<{ path: string; size: number }[]> {
  // A symlink planted at `_hfhpc/quarantine` (or `_hfhpc`) would turn this into deleting files
  // outside the root: the folders must be real ones, and no link below is followed.
  const qdir = quarantineDir(root);
  // fast-glob is loaded when this runs, not when @hfhpc/ops is imported (status never needs it).
  const { default: fg } = await import('fast-glob');
  const quarantined = (await new CacheDirs(root).check(qdir))
    ? await fg('**/*', { cwd: qdir, absolute: true, onlyFiles: true, followSymbolicLinks: false, stats: true, suppressErrors: true })
    : [];
  for (const q of quarantined) {
    if (!dryRun) await rm(q.path, { force: true });
  }
  return quarantined.map((q) => ({ path: q.path, size: q.stats?.size ?? 0 }));
}

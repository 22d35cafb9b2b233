import {
  CacheDirs,
  InterruptedError,
  cacheLayout,
  finishShard,
  releaseLease,
  type Claim,
  type Logger,
  type ShardFile,
  type Store,
  type SymlinkableDir,
} from '@hfhpc/core';
import type { DownloadFn } from './download-fn.js';
import type { ConnectionBudget } from './download/connection-budget.js';
import { toDiskError } from './disk-error.js';
import { cannotRelease } from './lease-release.js';
import type { ProgressMeter } from './progress-meter.js';
import { ensureRepoMeta } from './ensure-repo-meta.js';
import { ShardLease, isLeaseError } from './shard-lease.js';
import { runShard } from './run-shard.js';
import type { ShardFailure } from './shard/types.js';
import type { SignalWatch } from './signals.js';
import type { createThrottleGate } from './throttle-gate.js';
import type { ShardOutcome } from './worker-types.js';

export interface WorkOnShardParams {
  store: Store;
  claim: Claim;
  ttlMs: number;
  root: string;
  hubUrl: string;
  token?: string;
  concurrency: number;
  gate: ReturnType<typeof createThrottleGate>;
  meter: ProgressMeter;
  log: Logger;
  signals: SignalWatch;
  download: DownloadFn;
  /** The task's connections, shared with the engine's ranged blobs. */
  connections?: ConnectionBudget;
  progressFlushMs: number;
  /** Datasets whose repo metadata this task wrote already. */
  metaDone: Set<number>;
  now: () => number;
  recheckBlobs: boolean;
  allowSymlinkedDirs: SymlinkableDir[];
}

export interface ShardWorkResult {
  state: ShardOutcome['state'];
  filesDone: number;
  failures: ShardFailure[];
}

/**
 * One claimed shard under its lease: run it and finish it; when the lease is lost, touch nothing
 * more of it; when interrupted or failing, release the lease and rethrow.
 */
export async function workOnShard(p: WorkOnShardParams): Promise<ShardWorkResult> {
  const abort = new AbortController();
  const onStop = (): void => abort.abort(p.signals.signal.reason);
  if (p.signals.signal.aborted) onStop();
  else p.signals.signal.addEventListener('abort', onStop, { once: true });
  const lease = new ShardLease({ store: p.store, claim: p.claim, ttlMs: p.ttlMs, progressFlushMs: p.progressFlushMs, abort, now: p.now, log: p.log });
  try {
    return await runAndFinish(p, lease, abort.signal);
  } catch (err) {
    lease.stopHeartbeat();
    const cause: unknown = abort.signal.aborted ? abort.signal.reason : err;
    if (isLeaseError(cause) || isLeaseError(err)) {
      // Another task holds the shard now: touch nothing more of it, not even progress.
      p.log.warn(`lost the lease on shard ${lease.claim.index}: ${(cause as Error).message}`);
      return { state: 'lost', filesDone: 0, failures: [] };
    }
    await giveBack(p, lease, cause);
    throw cause;
  } finally {
    lease.end();
    p.signals.signal.removeEventListener('abort', onStop);
  }
}

async function runAndFinish(p: WorkOnShardParams, lease: ShardLease, signal: AbortSignal): Promise<ShardWorkResult> {
  const { store } = p;
  // The cache folders are checked (no planted symlink) once per shard run, then trusted.
  const dirs = new CacheDirs(p.root, { allowSymlinkedDirs: p.allowSymlinkedDirs });
  const res = await runShard({
    store, claim: lease.claim, onPage: (files) => writeRepoMeta(p, dirs, files), root: p.root, hubUrl: p.hubUrl, token: p.token, concurrency: p.concurrency,
    connections: p.connections, download: p.download, gate: p.gate, meter: p.meter, progress: lease.progressSink(), done: lease.doneFiles, signal, log: p.log,
    recheckBlobs: p.recheckBlobs, lease: lease.downloadLease(), dirs,
  });
  lease.stopHeartbeat();
  await lease.doneFiles.flush();
  await lease.batcher.close();
  const fin = await store.writeAsync(() => finishShard(store, lease.claim));
  return { state: fin.state, filesDone: res.filesDone, failures: res.failures };
}

/** Each dataset's repo metadata (refs, once per task) before its files are placed (called per page). */
async function writeRepoMeta(p: WorkOnShardParams, dirs: CacheDirs, files: readonly ShardFile[]): Promise<void> {
  for (const f of files) {
    if (p.metaDone.has(f.datasetId)) continue;
    p.metaDone.add(f.datasetId);
    await ensureRepoMeta({ store: p.store, root: p.root, dirs, datasetId: f.datasetId, repo: f.repo, revision: f.revision, commit: f.commitSha }).catch((err: unknown) => {
      throw toDiskError(err, { path: cacheLayout(p.root, f.repo).repoDir, bytesNeeded: 0 }) ?? err;
    });
  }
}

/**
 * Interrupted, disk full, or a bug: keep the partial files, write the last progress, release
 * the lease. A release that fails throws `cannotRelease` (exit 1: not safe to requeue as if
 * released); one refused because the lease is gone throws the cause.
 */
async function giveBack(p: WorkOnShardParams, lease: ShardLease, cause: unknown): Promise<void> {
  const { store, log } = p;
  try {
    await lease.doneFiles.flush();
    await lease.batcher.close();
  } catch (flushErr) {
    log.warn(`could not write the last progress: ${(flushErr as Error).message}`);
  }
  try {
    await store.writeAsync(() => releaseLease(store, lease.claim, { reason: cause instanceof InterruptedError ? cause.message : `error: ${(cause as Error).message}` }));
    log.info(`released the lease on shard ${lease.claim.index}`);
  } catch (relErr) {
    if (isLeaseError(relErr)) throw cause;
    // Not safe to requeue as if released (exit 75): say when the shard becomes claimable.
    throw cannotRelease(lease.claim, relErr, cause);
  }
}

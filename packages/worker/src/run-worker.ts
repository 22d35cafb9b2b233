import { openStore } from '@hfhpc/core';
import { claimLoop } from './claim-loop.js';
import { ConnectionBudget, DEFAULT_RANGES, downloadBlob } from './download/index.js';
import { giveBackLeftovers } from './lease-release.js';
import { ProgressMeter } from './progress-meter.js';
import { watchSignals } from './signals.js';
import { throwIfFilesFailed } from './throw-if-files-failed.js';
import { resolveWorkerOptions } from './worker-options.js';
import { startProgressReports, startTask } from './worker-startup.js';
import type { RunWorkerParams, WorkerResult } from './worker-types.js';
import type { DownloadFn } from './download-fn.js';

export type { RunWorkerParams, ShardOutcome, WorkerResult } from './worker-types.js';

/** SQLite's own (synchronous) wait for a lock in the worker, in ms; longer waits are timers. */
const WORKER_BUSY_TIMEOUT_MS = 5;

/**
 * One array task: claim the own shard, then steal pending or expired shards until none is
 * left, downloading and placing each shard's files. Resolves when all its shards are done;
 * throws WorkFailedError (exit 1) when files failed, InterruptedError (exit 75) on a stop
 * signal after releasing the lease, DiskError (exit 1) when the disk is full or read-only.
 */
export async function runWorker(params: RunWorkerParams): Promise<WorkerResult> {
  const opts = resolveWorkerOptions(params);
  const signals = params.signals ?? watchSignals();
  // A short busy_timeout: every longer wait for the lock is a timer (writeAsync/readAsync).
  const store = openStore({ path: params.dbPath, create: false, now: opts.now, busyTimeoutMs: WORKER_BUSY_TIMEOUT_MS });
  let stopReports = (): void => undefined;
  try {
    const task = await startTask(store, params, opts);
    const { plan, owner, log } = task;
    const meter = new ProgressMeter({ now: opts.now });
    stopReports = startProgressReports(log, meter, opts.intervalMs);
    log.info(`task ${opts.taskId} starting as ${owner}: plan ${plan.id}, ${opts.concurrency} downloads at once, lease ttl ${opts.ttlMs / 1000}s${opts.steal ? '' : ', no stealing'}`);
    // One connection per group in flight (the pool's concurrency); a ranged blob adds more while any are free.
    const connections = new ConnectionBudget(Math.max(opts.concurrency, params.connectionsPerFile ?? DEFAULT_RANGES.connections));
    const result = await claimLoop({
      ...opts, ...task, store, planId: plan.id, meter, signals, connections,
      download: params.download ?? downloadWith(params.connectionsPerFile, connections), progressFlushMs: params.progressFlushMs ?? 5000,
    });
    if (signals.signal.aborted) throw signals.signal.reason;
    // Never exit 0 with a shard still leased to this process: whatever path led here, give it
    // back (exit 75, requeue) or say when its lease runs out (exit 1).
    await giveBackLeftovers({ store, planId: plan.id, owner, log });
    log.info(meter.line());
    throwIfFilesFailed(result);
    log.info(`task ${opts.taskId} done: ${result.shards.length} shard(s), ${result.filesDone} file(s)`);
    return result;
  } finally {
    stopReports();
    signals.dispose();
    store.close();
  }
}

/** The engine, with `--connections-per-file` when given, its ranged blobs within the task's connection budget. */
function downloadWith(connections: number | undefined, budget: ConnectionBudget): DownloadFn {
  return (req) => downloadBlob({ ...req, ranges: { ...(connections === undefined ? {} : { connections }), budget } });
}

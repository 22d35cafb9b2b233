import os from 'node:os';
import {
  InterruptedError,
  LeaseLostError,
  ProgressBatcher,
  StaleFenceError,
  StateError,
  UsageError,
  WorkFailedError,
  assertHubUrl,
  cacheLayout,
  claimShard,
  createLogger,
  findToken,
  finishShard,
  getPlan,
  getThrottle,
  heartbeat,
  latestPlan,
  leaseOwner,
  openStore,
  releaseLease,
  setThrottle,
  shardFiles,
  type Claim,
  type Logger,
  type Store,
  type WorkState,
} from '@hfhpc/core';
import { resolveConcurrency } from './concurrency.js';
import type { DownloadFn } from './download-fn.js';
import { downloadBlob } from './download/index.js';
import { assertWritableRoot, toDiskError } from './disk-error.js';
import { DoneRecorder } from './done-recorder.js';
import { startHeartbeat } from './heartbeat.js';
import { ProgressMeter } from './progress-meter.js';
import { ensureRepoMeta } from './repo-meta.js';
import { runShard, type ShardFailure } from './shard-runner.js';
import { watchSignals, type SignalWatch } from './signals.js';
import { resolveTaskId } from './task-id.js';
import { createThrottleGate } from './throttle-gate.js';

export interface RunWorkerParams {
  /** The state database (`--db`). */
  dbPath: string;
  /** Cache root (`--root`). Default: the plan's root. */
  root?: string;
  /** Hub base URL (`--hub-url`). Default: the plan's hub URL. */
  hubUrl?: string;
  /** `--plan-id`. Default: the latest plan. */
  planId?: number;
  /** `--task-id`; default `$SLURM_ARRAY_TASK_ID` + offset. */
  taskId?: number;
  /** `--task-offset`; default `$HFHPC_TASK_OFFSET`, else 0. */
  taskOffset?: number;
  /** `--concurrency`; default the task's CPUs. */
  concurrency?: number;
  /** `--lease-ttl` in seconds. Default 120; heartbeats every quarter of it. */
  leaseTtlS?: number;
  /** `--no-steal` sets false: stop after the own shard. Default true. */
  steal?: boolean;
  /** `--progress-interval` in seconds. Default 30. */
  progressIntervalS?: number;
  /** How often progress is written to the database. Default 5,000 ms. */
  progressFlushMs?: number;
  /** The download engine. Default `downloadBlob` (./download). */
  download?: DownloadFn;
  /** Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Default: a text logger on stderr. Plan id, task id and host are added. */
  logger?: Logger;
  /** Default: `findToken({ env })`. Pass null for no token. */
  token?: string | null;
  /** Stop signals. Default `watchSignals()` (SIGTERM, SIGINT, SIGUSR1). */
  signals?: SignalWatch;
  /** Default `os.hostname()`. */
  host?: string;
  /** Default `process.pid`. */
  pid?: number;
  /** Clock for the store and the lease checks. Default Date.now. */
  now?: () => number;
}

export interface ShardOutcome {
  index: number;
  /** `lost`: the lease was taken over; the new holder finishes the shard. */
  state: Exclude<WorkState, 'running'> | 'lost';
}

export interface WorkerResult {
  planId: number;
  taskId: number;
  shards: ShardOutcome[];
  filesDone: number;
  failures: ShardFailure[];
}

function positive(value: number, flag: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new UsageError(`Expected ${flag} to be a positive number of seconds, got \`${String(value)}\` (${typeof value})`, { hint: `pass ${flag} once, e.g. ${flag} 60` });
  }
  return value;
}

/** SQLite's own (synchronous) wait for a lock in the worker, in ms; longer waits are timers. */
const WORKER_BUSY_TIMEOUT_MS = 5;

const isLeaseError = (err: unknown): err is LeaseLostError | StaleFenceError => err instanceof LeaseLostError || err instanceof StaleFenceError;

/**
 * One array task: claim the own shard, then steal pending or expired shards until none is
 * left, downloading and placing each shard's files. Resolves when all its shards are done;
 * throws WorkFailedError (exit 1) when files failed, InterruptedError (exit 75) on a stop
 * signal after releasing the lease, DiskError (exit 1) when the disk is full or read-only.
 */
export async function runWorker(params: RunWorkerParams): Promise<WorkerResult> {
  const env = params.env ?? process.env;
  const now = params.now ?? Date.now;
  const host = params.host ?? os.hostname();
  const pid = params.pid ?? process.pid;
  const taskId = resolveTaskId({ taskId: params.taskId, taskOffset: params.taskOffset, env });
  const concurrency = resolveConcurrency({ concurrency: params.concurrency, env });
  const ttlMs = Math.round(positive(params.leaseTtlS ?? 120, '--lease-ttl') * 1000);
  const intervalMs = positive(params.progressIntervalS ?? 30, '--progress-interval') * 1000;
  const steal = params.steal ?? true;
  const signals = params.signals ?? watchSignals();
  // A short busy_timeout: every longer wait for the lock is a timer (writeAsync/readAsync).
  const store = openStore({ path: params.dbPath, create: false, now, busyTimeoutMs: WORKER_BUSY_TIMEOUT_MS });
  let progressTimer: NodeJS.Timeout | undefined;
  try {
    const plan = await store.readAsync(() => (params.planId !== undefined ? getPlan(store, params.planId) : latestPlan(store)));
    if (!plan) {
      throw new StateError(params.planId !== undefined ? `no plan ${params.planId} in ${params.dbPath}` : `no plan in ${params.dbPath}`, {
        hint: 'run hfhpc plan first, or pass the --db of the plan',
      });
    }
    const root = params.root ?? plan.root;
    const hubUrl = assertHubUrl(params.hubUrl ?? plan.hubUrl);
    // `plan --force`: blobs already in place are hashed again rather than trusted.
    const recheckBlobs = plan.options.force === true;
    await assertWritableRoot(root);
    const log = (params.logger ?? createLogger()).child({ planId: plan.id, taskId, host });
    const token = params.token === null ? undefined : (params.token ?? (await findToken({ env })).token);
    const owner = leaseOwner({ env, host, pid });
    const gate = createThrottleGate({
      table: {
        get: () => store.readAsync(() => getThrottle(store)),
        set: (notBefore, reason) => store.writeAsync(() => setThrottle(store, { notBefore, reason, setBy: owner })),
      },
      now,
      onError: (err) => log.warn(`throttle table: ${(err as Error).message}`),
    });
    const meter = new ProgressMeter({ now });
    progressTimer = setInterval(() => log.info(meter.line()), intervalMs);
    progressTimer.unref();
    log.info(`task ${taskId} starting as ${owner}: plan ${plan.id}, ${concurrency} downloads at once, lease ttl ${ttlMs / 1000}s${steal ? '' : ', no stealing'}`);

    const result: WorkerResult = { planId: plan.id, taskId, shards: [], filesDone: 0, failures: [] };
    const metaDone = new Set<number>();
    const claimsPerShard = new Map<number, number>();
    while (!signals.signal.aborted) {
      const claim = await store.writeAsync(() => claimShard(store, { planId: plan.id, owner, preferIndex: taskId, ttlMs, steal }));
      if (!claim) break;
      const n = (claimsPerShard.get(claim.shardId) ?? 0) + 1;
      claimsPerShard.set(claim.shardId, n);
      log.info(`claimed shard ${claim.index} (fence ${claim.fence})`);
      const outcome = await workOnShard({ store, claim, ttlMs, root, hubUrl, token, concurrency, gate, meter, log, signals, download: params.download ?? downloadBlob, progressFlushMs: params.progressFlushMs ?? 5000, metaDone, now, recheckBlobs });
      result.shards.push({ index: claim.index, state: outcome.state });
      result.filesDone += outcome.filesDone;
      result.failures.push(...outcome.failures);
      log.info(`shard ${claim.index}: ${outcome.state}${outcome.failures.length ? ` (${outcome.failures.length} file(s) failed)` : ''}`);
      // A shard that finishes with files left is claimable again; do not spin on it.
      if (!steal || (outcome.state === 'pending' && n >= 2)) break;
    }
    if (signals.signal.aborted) throw signals.signal.reason;
    log.info(meter.line());
    if (result.failures.length > 0) {
      const shown = result.failures.slice(0, 5).map((f) => `${f.repo}/${f.path}: ${f.error}`);
      const more = result.failures.length > 5 ? `; and ${result.failures.length - 5} more` : '';
      throw new WorkFailedError(`${result.failures.length} file(s) failed: ${shown.join('; ')}${more}`, {
        hint: 'see hfhpc status for every failure; fix the cause and run again (done files are not fetched again)',
        context: { result },
      });
    }
    log.info(`task ${taskId} done: ${result.shards.length} shard(s), ${result.filesDone} file(s)`);
    return result;
  } finally {
    if (progressTimer) clearInterval(progressTimer);
    signals.dispose();
    store.close();
  }
}

interface WorkOnShardParams {
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
  progressFlushMs: number;
  metaDone: Set<number>;
  now: () => number;
  recheckBlobs: boolean;
}

async function workOnShard(p: WorkOnShardParams): Promise<{ state: ShardOutcome['state']; filesDone: number; failures: ShardFailure[] }> {
  const { store, log } = p;
  let current = p.claim;
  const abort = new AbortController();
  const onStop = (): void => abort.abort(p.signals.signal.reason);
  if (p.signals.signal.aborted) onStop();
  else p.signals.signal.addEventListener('abort', onStop, { once: true });
  const lost = (err: LeaseLostError | StaleFenceError): void => {
    if (!abort.signal.aborted) abort.abort(err);
  };
  // Time-based flushes only: a commit blocks the event loop for its fsyncs (all streams wait),
  // so not one per 64 MiB on a fast link.
  const batcher = new ProgressBatcher({ store, claim: current, flushMs: p.progressFlushMs, flushBytes: Number.MAX_SAFE_INTEGER, onError: (err) => isLeaseError(err) && lost(err) });
  const doneFiles = new DoneRecorder({ store, claim: () => current, onError: (err) => !abort.signal.aborted && abort.abort(err) });
  const hb = startHeartbeat({
    intervalMs: p.ttlMs / 4,
    beat: async () => {
      current = await store.writeAsync(() => heartbeat(store, current, { ttlMs: p.ttlMs }), { urgent: true });
      batcher.setClaim(current);
    },
    onLost: lost,
    onError: (err) => log.warn(`heartbeat failed, retrying: ${(err as Error).message}`),
  });
  // Between heartbeats, a process that was stopped (SIGSTOP, a frozen node) may wake after its
  // lease expired: check the local expiry on every progress report, not only on the timer.
  const progress = {
    update: (fileId: number, bytes: number): void => {
      if (p.now() > current.expiresAt) lost(new LeaseLostError(`lease on shard ${current.index} expired while this task was not running`, { hint: 'another task may hold it now; this task stops work on the shard' }));
      batcher.update(fileId, bytes);
    },
    forget: (fileId: number): void => batcher.forget(fileId),
  };
  try {
    const files = await store.readAsync(() => shardFiles(store, current.shardId));
    for (const f of files) {
      if (p.metaDone.has(f.datasetId)) continue;
      p.metaDone.add(f.datasetId);
      await ensureRepoMeta({ store, root: p.root, datasetId: f.datasetId, repo: f.repo, revision: f.revision, commit: f.commitSha }).catch((err: unknown) => {
        throw toDiskError(err, { path: cacheLayout(p.root, f.repo).repoDir, bytesNeeded: 0 }) ?? err;
      });
    }
    const res = await runShard({
      store, claim: current, files, root: p.root, hubUrl: p.hubUrl, token: p.token, concurrency: p.concurrency,
      download: p.download, gate: p.gate, meter: p.meter, progress, done: doneFiles, signal: abort.signal, log,
      recheckBlobs: p.recheckBlobs,
    });
    hb.stop();
    await doneFiles.flush();
    await batcher.close();
    const fin = await store.writeAsync(() => finishShard(store, current));
    return { state: fin.state, filesDone: res.filesDone, failures: res.failures };
  } catch (err) {
    hb.stop();
    const cause = abort.signal.aborted ? abort.signal.reason : err;
    if (isLeaseError(cause) || isLeaseError(err)) {
      // Another task holds the shard now: touch nothing more of it, not even progress.
      log.warn(`lost the lease on shard ${current.index}: ${(cause as Error).message}`);
      return { state: 'lost', filesDone: 0, failures: [] };
    }
    // Interrupted, disk full, or a bug: keep the partial files, give the shard back.
    try {
      await doneFiles.flush();
      await batcher.close();
    } catch (flushErr) {
      log.warn(`could not write the last progress: ${(flushErr as Error).message}`);
    }
    try {
      await store.writeAsync(() => releaseLease(store, current, { reason: cause instanceof InterruptedError ? cause.message : `error: ${(cause as Error).message}` }));
      log.info(`released the lease on shard ${current.index}`);
    } catch (relErr) {
      log.warn(`could not release the lease on shard ${current.index}: ${(relErr as Error).message}`);
    }
    throw cause;
  } finally {
    hb.stop();
    p.signals.signal.removeEventListener('abort', onStop);
  }
}

import os from 'node:os';
import {
  CacheDirs,
  InternalError,
  toHfhpcError,
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
  heartbeat,
  latestPlan,
  leaseHolderAlive,
  leaseOwner,
  listLeases,
  parseLeaseOwner,
  openStore,
  planSymlinkAllowance,
  planBytesLeft,
  releaseLease,
  shardFiles,
  type Claim,
  type Logger,
  type Store,
  type SymlinkableDir,
  type WorkState,
} from '@hfhpc/core';
import { resolveConcurrency } from './concurrency.js';
import type { DownloadFn } from './download-fn.js';
import type { RequestGate } from './throttle-gate.js';
import { downloadBlob, type DownloadLease } from './download/index.js';
import { assertWritableRoot, toDiskError, withPlanBytesLeft } from './disk-error.js';
import { DoneRecorder } from './done-recorder.js';
import { startHeartbeat } from './heartbeat.js';
import { ProgressMeter } from './progress-meter.js';
import { ensureRepoMeta } from './repo-meta.js';
import { runShard, type ShardFailure } from './shard-runner.js';
import { watchSignals, type SignalWatch } from './signals.js';
import { resolveTaskId } from './task-id.js';
import { createWorkerGate } from './worker-gate.js';

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

/** The first `Progress:` line comes this soon after the start (or after one interval, if shorter). */
const FIRST_PROGRESS_MS = 5000;

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
    // The manifest's allow_symlinked_dirs, carried by the plan.
    const allowSymlinkedDirs = planSymlinkAllowance(plan.options);
    await assertWritableRoot(root);
    const log = (params.logger ?? createLogger()).child({ planId: plan.id, taskId, host });
    const token = params.token === null ? undefined : (params.token ?? (await findToken({ env })).token);
    const owner = leaseOwner({ env, host, pid });
    const gate = createWorkerGate({ store, owner, log, now, env });
    const meter = new ProgressMeter({ now });
    // The first line soon after the start (a short task shows one before its final line), then
    // one every interval.
    const report = (): void => void log.info(meter.line());
    progressTimer = setTimeout(() => {
      report();
      progressTimer = setInterval(report, intervalMs).unref();
    }, Math.min(FIRST_PROGRESS_MS, intervalMs)).unref();
    log.info(`task ${taskId} starting as ${owner}: plan ${plan.id}, ${concurrency} downloads at once, lease ttl ${ttlMs / 1000}s${steal ? '' : ', no stealing'}`);

    const result: WorkerResult = { planId: plan.id, taskId, shards: [], filesDone: 0, failures: [] };
    const metaDone = new Set<number>();
    const claimsPerShard = new Map<number, number>();
    const claimNext = (): Promise<Claim | null> => store.writeAsync(() => claimShard(store, { planId: plan.id, owner, preferIndex: taskId, ttlMs, steal }));
    while (!signals.signal.aborted) {
      let claim = await claimNext();
      // A shard held by a process of this host that no longer exists (killed, or it could not
      // release its lease) is taken back now rather than after its lease runs out.
      if (!claim && (await takeBackDeadLeases({ store, planId: plan.id, host, owner, now, log })) > 0) claim = await claimNext();
      if (!claim) break;
      const n = (claimsPerShard.get(claim.shardId) ?? 0) + 1;
      claimsPerShard.set(claim.shardId, n);
      log.info(`claimed shard ${claim.index} (fence ${claim.fence})`);
      const outcome = await workOnShard({ store, claim, ttlMs, root, hubUrl, token, concurrency, gate, meter, log, signals, download: params.download ?? downloadBlob, progressFlushMs: params.progressFlushMs ?? 5000, metaDone, now, recheckBlobs, allowSymlinkedDirs }).catch((err: unknown) => {
        throw withPlanBytesLeft(err, () => planBytesLeft(store, plan.id));
      });
      result.shards.push({ index: claim.index, state: outcome.state });
      result.filesDone += outcome.filesDone;
      result.failures.push(...outcome.failures);
      log.info(`shard ${claim.index}: ${outcome.state}${outcome.failures.length ? ` (${outcome.failures.length} file(s) failed)` : ''}`);
      // A shard that finishes with files left is claimable again; do not spin on it.
      if (!steal || (outcome.state === 'pending' && n >= 2)) break;
    }
    if (signals.signal.aborted) throw signals.signal.reason;
    // Never exit 0 with a shard still leased to this process: whatever path led here, give it
    // back (exit 75, requeue) or say when its lease runs out (exit 1).
    await giveBackLeftovers({ store, planId: plan.id, owner, log });
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
    clearTimeout(progressTimer);
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
  gate: RequestGate;
  meter: ProgressMeter;
  log: Logger;
  signals: SignalWatch;
  download: DownloadFn;
  progressFlushMs: number;
  metaDone: Set<number>;
  now: () => number;
  recheckBlobs: boolean;
  allowSymlinkedDirs: SymlinkableDir[];
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
  // The lease as far as this process knows it: writable until a margin before its expiry (a
  // clock a little off on another host still finds it expired only after we stopped writing).
  const margin = p.ttlMs / 4;
  const beat = async (): Promise<void> => {
    current = await store.writeAsync(() => heartbeat(store, current, { ttlMs: p.ttlMs }), { urgent: true });
    batcher.setClaim(current);
  };
  const hb = startHeartbeat({
    intervalMs: p.ttlMs / 4,
    beat,
    onLost: lost,
    onError: (err) => log.warn(`heartbeat failed, retrying: ${(err as Error).message}`),
  });
  // Past the local deadline (the process was stopped, the node froze) the lease may or may not
  // still be ours: only the database can say. Writes wait for that answer; the lease is lost
  // only when the database says so, never because the local clock ran past it.
  let confirming: Promise<void> | undefined;
  let over = false;
  const confirm = (): Promise<void> => {
    confirming ??= (async () => {
      if (abort.signal.aborted) throw abort.signal.reason;
      if (over) throw new LeaseLostError(`shard ${current.index} is no longer worked on by this task`, { hint: 'nothing to do' });
      try {
        // writeAsync waits for a busy lock on timers, within the store's retry budget.
        await beat();
      } catch (err) {
        // Taken by another claim, or the database is unusable (moved, deleted, locked past the
        // retry budget): either way nothing more is written for this shard.
        if (isLeaseError(err)) lost(err);
        else if (!abort.signal.aborted) abort.abort(err);
        throw err;
      }
    })().finally(() => (confirming = undefined));
    return confirming;
  };
  // Publishing needs the fence to be this claim's. The last heartbeat checked it in the database
  // (owner and fence) and no other claim can exist before that lease expires: release, finish
  // and expiry are ours or come after the expiry, and cleanup takes back only a dead holder's.
  // So within the deadline that check stands; past it, `confirm` asks the database again. No
  // database read per blob: in rollback-journal mode a read waits on every writer's lock.
  const lease: DownloadLease = {
    writableUntil: () => current.expiresAt - margin,
    confirm,
    beforePublish: async () => {
      if (p.now() >= current.expiresAt - margin) await confirm();
    },
  };
  const progress = {
    update: (fileId: number, bytes: number): void => {
      if (p.now() >= current.expiresAt - margin) confirm().catch(() => undefined);
      batcher.update(fileId, bytes);
    },
    forget: (fileId: number): void => batcher.forget(fileId),
  };
  try {
    // The cache folders are checked (no planted symlink) once per shard run, then trusted.
    const dirs = new CacheDirs(p.root, { allowSymlinkedDirs: p.allowSymlinkedDirs });
    const files = await store.readAsync(() => shardFiles(store, current.shardId));
    for (const f of files) {
      if (p.metaDone.has(f.datasetId)) continue;
      p.metaDone.add(f.datasetId);
      await ensureRepoMeta({ store, root: p.root, dirs, datasetId: f.datasetId, repo: f.repo, revision: f.revision, commit: f.commitSha }).catch((err: unknown) => {
        throw toDiskError(err, { path: cacheLayout(p.root, f.repo).repoDir, bytesNeeded: 0 }) ?? err;
      });
    }
    const res = await runShard({
      store, claim: current, files, root: p.root, hubUrl: p.hubUrl, token: p.token, concurrency: p.concurrency,
      download: p.download, gate: p.gate, meter: p.meter, progress, done: doneFiles, signal: abort.signal, log,
      recheckBlobs: p.recheckBlobs, lease, dirs,
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
      if (isLeaseError(relErr)) throw cause;
      // Not safe to requeue as if released (exit 75): say when the shard becomes claimable.
      throw cannotRelease(current, relErr, cause);
    }
    throw cause;
  } finally {
    over = true;
    hb.stop();
    p.signals.signal.removeEventListener('abort', onStop);
  }
}

/** Exit 1: the lease stays until it expires; the message says when. */
function cannotRelease(claim: Claim, relErr: unknown, cause?: unknown): StateError {
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
async function takeBackDeadLeases(params: { store: Store; planId: number; host: string; owner: string; now: () => number; log: Logger }): Promise<number> {
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
async function giveBackLeftovers(params: { store: Store; planId: number; owner: string; log: Logger }): Promise<void> {
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

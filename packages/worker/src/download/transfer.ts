// The transfer of one blob that is not on disk yet: open this claim's partial, resume what it
// holds, then attempt, decide (`nextStep`) and carry out the step until the hash matches, and
// publish. What to do after an attempt is decided in next-step.ts; this file only executes it.
import type { Got } from 'got';
import { abortError } from './abort-error.js';
import { runAttempt, type AttemptOutcome } from './attempt.js';
import type { BlobHasher } from './blob-hash.js';
import { nextStep, initialRetryState, type BlobRef, type NextStep, type Outcome, type RetryState } from './next-step.js';
import { openOwnPartial } from './own-partial.js';
import { resumePartial } from './resume-partial.js';
import { publishBlob, removeIfPresent } from './publish-blob.js';
import { liveOffset, restartFromZero, type TransferState } from './transfer-state.js';
import type { DownloadBlobParams, DownloadBlobResult, DownloadFs, DownloadGate, DownloadLease, DownloadTimeouts, RetryPolicy } from './types.js';

/** `DownloadBlobParams` with every default filled in. */
export interface TransferSettings {
  fs: DownloadFs;
  got: Got;
  gate: DownloadGate;
  now: () => number;
  random: () => number;
  sleep: (ms: number, signal?: AbortSignal) => Promise<unknown>;
  policy: Readonly<RetryPolicy>;
  timeouts: Readonly<DownloadTimeouts>;
  hubOrigin: string;
  hubUrl: string;
}

/** One transfer in progress: what every step reads and changes. */
interface Run {
  readonly params: DownloadBlobParams;
  readonly settings: TransferSettings;
  readonly state: TransferState;
  readonly blob: BlobRef;
  /** Bytes re-hashed from an earlier partial. */
  resumedFrom: number;
  /** The partial's handle was closed on purpose (published or discarded). */
  closed: boolean;
  /** Reports the bytes on disk now (progress and the caller's offset for error messages). */
  report: () => void;
}

export async function transfer(
  params: DownloadBlobParams,
  settings: TransferSettings,
  hasher: BlobHasher,
  reportOffset: (n: number) => void,
): Promise<DownloadBlobResult> {
  const { fs, now } = settings;
  const { partialPath, path, repo, log } = params;
  const size = params.expected.size;
  // Not even a partial file is touched under a lease that may be gone.
  await whileLeaseHeld(params.lease, now);
  const { handle, copiedFrom } = await openOwnPartial({ fs, partialPath, resumeFrom: params.resumeFrom, size });
  if (copiedFrom) log?.debug(`${path}: copied ${copiedFrom} into ${partialPath}`, { repo, path });
  // An injected fs sees every write (tests fail them on purpose), so it keeps them on the handle.
  const writeOnHashThread = params.fs === undefined;
  const state: TransferState = { handle, hasher, size, hash: hasher.start(), offset: 0, fetched: 0, noRange: false, writeOnHashThread, lease: params.lease, now };
  const blob: BlobRef = { repo, path, revision: params.revision, hubUrl: settings.hubUrl, size, want: hasher.want };
  const run: Run = { params, settings, state, blob, resumedFrom: 0, closed: false, report: progressReporter(state, params, reportOffset) };
  const ticker = setInterval(run.report, params.progressIntervalMs ?? 1000);
  ticker.unref();
  try {
    await resume(run);
    return await attemptUntilDone(run);
  } finally {
    clearInterval(ticker);
    state.hash.dispose();
    if (!run.closed) await handle.close().catch(() => undefined);
    run.report();
  }
}

/** Calls `onProgress` when the bytes on disk changed since the last call. */
function progressReporter(state: TransferState, params: DownloadBlobParams, reportOffset: (n: number) => void): () => void {
  let reported = -1;
  return () => {
    const n = liveOffset(state);
    reportOffset(n);
    if (n !== reported) params.onProgress?.((reported = n));
  };
}

/** Re-hash the bytes already in the partial: the next request starts after them. */
async function resume(run: Run): Promise<void> {
  const { state, params } = run;
  state.offset = await resumePartial({ handle: state.handle, hash: state.hash, size: state.size, signal: params.signal });
  run.resumedFrom = state.offset;
  if (run.resumedFrom > 0) {
    params.log?.info(`resuming ${params.path} at byte ${run.resumedFrom} of ${state.size}`, { repo: params.repo, path: params.path, offset: run.resumedFrom });
  }
}

/** The loop: verify a full partial or attempt the rest, then carry out the step `nextStep` picks. */
async function attemptUntilDone(run: Run): Promise<DownloadBlobResult> {
  const { state, settings } = run;
  let retry = initialRetryState(state.offset, settings.now());
  for (;;) {
    let outcome: Outcome;
    if (state.offset === state.size) {
      const got = await state.hash.digest();
      if (got === state.hasher.want) return publish(run, got, retry.attempts);
      outcome = { kind: 'corrupt', reason: `${state.hasher.kind === 'sha256' ? 'sha256' : 'git sha1'} ${got}, expected ${state.hasher.want}` };
    } else {
      throwIfAborted(run);
      outcome = await attempt(run, retry.cdnUrl);
    }
    const decision = nextStep(outcome, retry, { policy: settings.policy, now: settings.now(), offset: state.offset, random: settings.random, blob: run.blob });
    retry = decision.state;
    await carryOut(run, decision.step, outcome, retry);
  }
}

function attempt(run: Run, cdnUrl: string | undefined): Promise<AttemptOutcome> {
  const { params, settings } = run;
  return runAttempt({
    state: run.state,
    url: cdnUrl ?? params.url,
    hubOrigin: settings.hubOrigin,
    token: params.token,
    got: settings.got,
    timeouts: settings.timeouts,
    gate: settings.gate,
    signal: params.signal,
    now: settings.now,
    log: params.log,
    path: params.path,
    partialPath: params.partialPath,
  });
}

async function carryOut(run: Run, step: NextStep, outcome: Outcome, retry: RetryState): Promise<void> {
  const { params, settings, state } = run;
  const { log, path, repo } = params;
  switch (step.kind) {
    case 'verify':
      return;
    case 'restart':
      log?.warn(`${path}: ${step.reason}; downloading again from 0`, { repo, path, integrityFailures: step.integrityFailures });
      await restartFromZero(state);
      return;
    case 'retry':
      if (step.pauseAll) await settings.gate.pause(step.pauseAll.untilMs, step.pauseAll.reason);
      log?.warn(`${path}: ${describe(outcome)}; retry ${step.failures} in ${step.waitMs} ms`, { repo, path, offset: state.offset, attempt: retry.attempts, freshUrl: step.fresh });
      if (step.waitMs > 0) await wait(run, step.waitMs);
      return;
    case 'give-up':
      if (step.pauseAll) await settings.gate.pause(step.pauseAll.untilMs, step.pauseAll.reason);
      if (step.discardPartial) {
        await state.handle.close();
        run.closed = true;
        await removeIfPresent(settings.fs, params.partialPath);
      }
      throw step.error;
  }
}

/** The verified partial becomes the blob, under the fence check. */
async function publish(run: Run, got: string, attempts: number): Promise<DownloadBlobResult> {
  const { params, settings, state } = run;
  await state.handle.close();
  run.closed = true;
  // The fence check comes last: only the current holder's verified file becomes the blob.
  await whileLeaseHeld(params.lease, settings.now);
  await params.lease?.beforePublish();
  await publishBlob({ partialPath: params.partialPath, finalPath: params.finalPath, fs: settings.fs });
  run.report();
  const digest = state.hasher.kind === 'sha256' ? { sha256: got } : { gitSha1: got };
  return { bytesFetched: state.fetched, resumedFrom: state.restarted ? 0 : run.resumedFrom, attempts, skipped: false, ...digest };
}

async function wait(run: Run, ms: number): Promise<void> {
  try {
    await run.settings.sleep(ms, run.params.signal);
  } catch (err) {
    throwIfAborted(run);
    throw err;
  }
}

function throwIfAborted(run: Run): void {
  const { signal, path, partialPath } = run.params;
  if (signal?.aborted) throw abortError(signal, { path, partialPath, bytesKept: run.state.offset });
}

/** Resolves at once while the lease is known to be held; else once it is confirmed (rejects when lost). */
async function whileLeaseHeld(lease: DownloadLease | undefined, now: () => number): Promise<void> {
  if (lease && now() >= lease.writableUntil()) await lease.confirm();
}

function describe(outcome: Outcome): string {
  switch (outcome.kind) {
    case 'http':
      return `${outcome.statusCode} from the ${outcome.source}`;
    case 'network':
      return `network error ${outcome.code}`;
    default:
      return outcome.kind;
  }
}

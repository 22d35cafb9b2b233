// The download engine: one blob from its resolve URL to `blobs/<etag>`, resumable, verified,
// with bounded retries. See DownloadBlobParams for the contract; docs/hub-protocol.md §1, §3.
import * as nodeFs from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { setTimeout as sleepTimer } from 'node:timers/promises';
import defaultGot from 'got';
import {
  DiskError,
  HfhpcError,
  IntegrityError,
  classifyHttpFailure,
  hubErrorFromNetworkFailure,
  hubErrorFromResponse,
  rateLimitWaitMs,
  retryDelay,
} from '@hfhpc/core';
import { toDiskError } from '../disk-error.js';
import { abortError } from './abort-error.js';
import { runAttempt, type AttemptOutcome } from './attempt.js';
import { EMPTY_GIT_BLOB_SHA1, EMPTY_SHA256, blobHasher, type BlobHasher } from './blob-hash.js';
import { defaultHashPool, type HashWorkerPool } from './hash-worker-pool.js';
import { processGate } from './memory-gate.js';
import { openMakingFolder, openOwnPartial } from './own-partial.js';
import { resumePartial } from './partial-file.js';
import { exists, publishBlob, removeIfPresent } from './publish-blob.js';
import { liveOffset, restartFromZero, type TransferState } from './transfer-state.js';
import type { DownloadBlobParams, DownloadBlobResult, DownloadFs, DownloadLease, DownloadTimeouts, RetryPolicy } from './types.js';

export const DEFAULT_RETRY: Readonly<RetryPolicy> = {
  maxAttempts: 8,
  maxTotalMs: 15 * 60_000,
  baseMs: 1000,
  capMs: 60_000,
  maxIntegrityRetries: 2,
};

export const DEFAULT_TIMEOUTS: Readonly<DownloadTimeouts> = { connectMs: 10_000, firstByteMs: 30_000, stallMs: 30_000 };

const defaultFs: DownloadFs = nodeFs;

/**
 * From this size on, `hashThread: 'auto'` hashes on a worker thread (below it, a thread hop costs
 * more than it saves). Since chunks move to the worker without a copy, 1 MiB pays: 400 × 10 MB
 * with 8 at once went from 460–494 to 552–577 MB/s (main thread 7.2 → 4.3 CPU s).
 */
export const THREADED_HASH_MIN_BYTES = 1024 * 1024;

type Sleep = NonNullable<DownloadBlobParams['sleep']>;

/**
 * Download one blob into `partialPath`, hashing as bytes arrive, and publish it at `finalPath`
 * once its size and hash match `expected`.
 *
 * - An existing `finalPath` is taken as done (nothing fetched, the partial removed).
 * - An existing partial is re-hashed once and resumed with `Range`; a 200 to a ranged request
 *   restarts from 0 in the same answer.
 * - The resolve redirect is followed to the CDN without Authorization; later attempts go to
 *   that CDN URL directly (no resolve quota spent) until it expires (401/403 → resolve again).
 * - 5xx/408/network errors/stalls: retried with full-jitter backoff; 429: the wait the server
 *   asked for is set on `gate` (every task pauses) and waited out. Budget: `retry`.
 * - 401/403 from the Hub, 404 and other 4xx: no retry, the typed error of `hubErrorFromResponse`.
 * - Size or hash mismatch: the partial is deleted and the blob fetched again from 0, at most
 *   `retry.maxIntegrityRetries` times, then `IntegrityError` (no final file).
 * - Disk full / read-only / no permission: `DiskError` naming the path and the bytes needed; the
 *   partial is kept.
 * - `signal` abort: rejects promptly, the partial is kept.
 */
export async function downloadBlob(params: DownloadBlobParams): Promise<DownloadBlobResult> {
  const fs = params.fs ?? defaultFs;
  const { expected, partialPath, finalPath, signal } = params;
  const hasher = blobHasher(expected, hashPoolFor(params));
  const digest = (hex: string) => (hasher.kind === 'sha256' ? { sha256: hex } : { gitSha1: hex });
  let offset = 0;
  try {
    if (signal?.aborted) throw abortError(signal, { path: params.path, partialPath, bytesKept: 0 });
    if (expected.size === 0) assertEmptyHash(hasher, params.path);
    if (await exists(fs, finalPath)) {
      for (const p of [partialPath, ...(params.resumeFrom ?? [])]) await removeIfPresent(fs, p);
      params.onProgress?.(expected.size);
      return { bytesFetched: 0, resumedFrom: 0, attempts: 0, skipped: true, ...digest(hasher.want) };
    }
    if (expected.size === 0) {
      await publishEmpty({ partialPath, finalPath, fs });
      params.onProgress?.(0);
      return { bytesFetched: 0, resumedFrom: 0, attempts: 0, skipped: false, ...digest(hasher.want) };
    }
    return await transfer(params, fs, hasher, (n) => (offset = n));
  } catch (err) {
    if (err instanceof HfhpcError) throw err;
    if (signal?.aborted) throw abortError(signal, { path: params.path, partialPath, bytesKept: offset });
    const code = (err as NodeJS.ErrnoException).code;
    const disk = toDiskError(err, { path: partialPath, bytesNeeded: expected.size - offset });
    if (disk) throw disk;
    if (code && (err as NodeJS.ErrnoException).syscall) {
      throw new DiskError(`cannot use ${partialPath} (${code})`, {
        cause: err,
        hint: 'check the filesystem under the root; partial files are kept and resumed',
        context: { path: partialPath, code },
      });
    }
    throw err;
  }
}

async function transfer(
  params: DownloadBlobParams,
  fs: DownloadFs,
  hasher: BlobHasher,
  reportOffset: (n: number) => void,
): Promise<DownloadBlobResult> {
  const { expected, partialPath, finalPath, signal, log, path, repo } = params;
  const now = params.now ?? Date.now;
  const random = params.random ?? Math.random;
  const gate = params.gate ?? processGate;
  const sleep: Sleep = params.sleep ?? ((ms, s) => sleepTimer(ms, undefined, { signal: s }));
  const policy = { ...DEFAULT_RETRY, ...params.retry };
  const timeouts = { ...DEFAULT_TIMEOUTS, ...params.timeouts };
  const hubOrigin = new URL(params.hubOrigin).origin;
  const hubUrl = params.hubUrl ?? hubOrigin;
  const size = expected.size;

  // Not even a partial file is touched under a lease that may be gone.
  await whileLeaseHeld(params.lease, now);
  const { handle, copiedFrom } = await openOwnPartial({ fs, partialPath, resumeFrom: params.resumeFrom, size });
  if (copiedFrom) log?.debug(`${path}: copied ${copiedFrom} into ${partialPath}`, { repo, path });
  let closed = false;
  // An injected fs sees every write (tests fail them on purpose), so it keeps them on the handle.
  const writeOnHashThread = params.fs === undefined;
  const state: TransferState = { handle, hasher, size, hash: hasher.start(), offset: 0, fetched: 0, noRange: false, writeOnHashThread, lease: params.lease, now };
  let reported = -1;
  const report = () => {
    const n = liveOffset(state);
    reportOffset(n);
    if (n !== reported) params.onProgress?.((reported = n));
  };
  const ticker = setInterval(report, params.progressIntervalMs ?? 1000);
  ticker.unref();
  try {
    state.offset = await resumePartial({ handle, hash: state.hash, size, signal });
    const resumedFrom = state.offset;
    if (resumedFrom > 0) log?.info(`resuming ${path} at byte ${resumedFrom} of ${size}`, { repo, path, offset: resumedFrom });

    let attempts = 0;
    let failures = 0;
    let integrityFailures = 0;
    let best = state.offset;
    let lastProgressAt = now();
    let cdnUrl: string | undefined;
    let previous: AttemptOutcome | undefined;

    const restart = async (reason: string) => {
      integrityFailures++;
      if (integrityFailures > policy.maxIntegrityRetries) {
        await handle.close();
        closed = true;
        await removeIfPresent(fs, partialPath);
        throw new IntegrityError(`${path} in dataset ${repo} failed verification ${integrityFailures} times: ${reason}`, {
          hint: 'the download keeps arriving corrupted; run again later, or report it if it persists',
          context: { repo, path, reason, size, want: hasher.want },
        });
      }
      log?.warn(`${path}: ${reason}; downloading again from 0`, { repo, path, integrityFailures });
      await restartFromZero(state);
      best = 0;
      failures = 0;
      lastProgressAt = now();
    };

    for (;;) {
      if (state.offset === size) {
        const got = await state.hash.digest();
        if (got === hasher.want) {
          await handle.close();
          closed = true;
          // The fence check comes last: only the current holder's verified file becomes the blob.
          await whileLeaseHeld(params.lease, now);
          await params.lease?.beforePublish();
          await publishBlob({ partialPath, finalPath, fs });
          report();
          return { bytesFetched: state.fetched, resumedFrom: state.restarted ? 0 : resumedFrom, attempts, skipped: false, ...(hasher.kind === 'sha256' ? { sha256: got } : { gitSha1: got }) };
        }
        await restart(`${hasher.kind === 'sha256' ? 'sha256' : 'git sha1'} ${got}, expected ${hasher.want}`);
        continue;
      }
      if (signal?.aborted) throw abortError(signal, { path, partialPath, bytesKept: state.offset });

      attempts++;
      const usedCachedCdn = cdnUrl !== undefined;
      const outcome = await runAttempt({
        state,
        url: cdnUrl ?? params.url,
        hubOrigin,
        token: params.token,
        got: params.got ?? defaultGot,
        timeouts,
        gate,
        signal,
        now,
        log,
        path,
        partialPath,
      });
      // Later attempts go straight to the CDN URL we were sent to: no resolve spent on a resume;
      // a kept CDN URL that gives no answer at all is given up for a fresh resolve.
      if (outcome.kind !== 'mismatch' && outcome.source === 'cdn') cdnUrl = outcome.url;
      else if (outcome.kind === 'network' && outcome.source === undefined && usedCachedCdn) cdnUrl = undefined;
      if (state.offset > best) {
        best = state.offset;
        failures = 0;
        lastProgressAt = now();
      }
      if (outcome.kind === 'complete') continue;
      if (outcome.kind === 'mismatch') {
        cdnUrl = undefined;
        await restart(outcome.reason);
        continue;
      }

      failures++;
      let delay: number;
      if (outcome.kind === 'http') {
        const { statusCode, headers, source } = outcome;
        let cls = classifyHttpFailure({ statusCode, headers, source });
        // A CDN URL kept from an earlier attempt may have gone stale in any way: resolve again.
        if (cls === 'fatal' && source === 'cdn' && usedCachedCdn) cls = 'expired-url';
        const fail = () =>
          hubErrorFromResponse({ statusCode, headers, body: outcome.body, url: outcome.url, repo, path, revision: params.revision, hubUrl, attempts, source });
        if (cls === 'fatal') throw fail();
        if (cls === 'expired-url') {
          cdnUrl = undefined;
          delay = previous?.kind === 'http' && previous.source === 'cdn' ? backoff() : 0;
        } else if (cls === 'rate-limited') {
          const asked = rateLimitWaitMs({ headers, now: now() });
          delay = asked === undefined ? backoff() : retryDelay({ attempt: failures, baseMs: policy.baseMs, capMs: policy.capMs, random, retryAfterMs: asked });
          await gate.pause(now() + delay, `429 from the ${source} for ${repo}`);
        } else {
          delay = backoff();
        }
        if (exhausted(delay)) throw fail();
      } else {
        const fail = () => hubErrorFromNetworkFailure({ errorCode: outcome.code, url: outcome.url, repo, path, attempts, cause: outcome.cause });
        if (!outcome.retryable) throw fail();
        delay = backoff();
        if (exhausted(delay)) throw fail();
      }
      log?.warn(`${path}: ${describe(outcome)}; retry ${failures} in ${delay} ms`, { repo, path, offset: state.offset, attempt: attempts });
      previous = outcome;
      if (delay > 0) {
        try {
          await sleep(delay, signal);
        } catch (err) {
          if (signal?.aborted) throw abortError(signal, { path, partialPath, bytesKept: state.offset });
          throw err;
        }
      }

      function backoff(): number {
        return retryDelay({ attempt: failures, baseMs: policy.baseMs, capMs: policy.capMs, random });
      }
      function exhausted(wait: number): boolean {
        return failures >= policy.maxAttempts || now() - lastProgressAt + wait > policy.maxTotalMs;
      }
    }
  } finally {
    clearInterval(ticker);
    state.hash.dispose();
    if (!closed) await handle.close().catch(() => undefined);
    report();
  }
}

/** Resolves at once while the lease is known to be held; else once it is confirmed (rejects when lost). */
async function whileLeaseHeld(lease: DownloadLease | undefined, now: () => number): Promise<void> {
  if (lease && now() >= lease.writableUntil()) await lease.confirm();
}

/** Large blobs hash on a worker thread (beside the network loop); small ones inline. */
function hashPoolFor(params: DownloadBlobParams): HashWorkerPool | undefined {
  const mode = params.hashThread ?? 'auto';
  if (mode === 'local' || params.expected.size === 0) return undefined;
  if (mode === 'auto' && (params.expected.size < THREADED_HASH_MIN_BYTES || availableParallelism() < 2)) return undefined;
  return params.hashPool ?? defaultHashPool;
}

function assertEmptyHash(hasher: BlobHasher, path: string): void {
  const empty = hasher.kind === 'sha256' ? EMPTY_SHA256 : EMPTY_GIT_BLOB_SHA1;
  if (hasher.want !== empty) {
    throw new IntegrityError(`${path} is listed with 0 bytes but hash ${hasher.want}, which is not the hash of empty content`, {
      hint: 'the plan is inconsistent; run `hfhpc plan` again',
    });
  }
}

async function publishEmpty(params: { partialPath: string; finalPath: string; fs: DownloadFs }): Promise<void> {
  const { partialPath, finalPath, fs } = params;
  await removeIfPresent(fs, partialPath);
  try {
    // Exclusive create: an empty file cannot be half-written, and an existing blob stays.
    await (await openMakingFolder(fs, finalPath, 'wx')).close();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

function describe(outcome: AttemptOutcome): string {
  switch (outcome.kind) {
    case 'http':
      return `${outcome.statusCode} from the ${outcome.source}`;
    case 'network':
      return `network error ${outcome.code}`;
    default:
      return outcome.kind;
  }
}

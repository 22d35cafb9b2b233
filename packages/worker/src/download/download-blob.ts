// The download engine: one blob from its resolve URL to `blobs/<etag>`, resumable, verified,
// with bounded retries. See DownloadBlobParams for the contract; docs/hub-protocol.md §1, §3.
import * as nodeFs from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { setTimeout as sleepTimer } from 'node:timers/promises';
import defaultGot from 'got';
import { DiskError, HfhpcError, IntegrityError } from '@hfhpc/core';
import { toDiskError } from '../disk-error.js';
import { abortError } from './abort-error.js';
import { EMPTY_GIT_BLOB_SHA1, EMPTY_SHA256, blobHasher, type BlobHasher } from './blob-hash.js';
import { defaultHashPool, type HashWorkerPool } from './hash-worker-pool.js';
import { processGate } from './memory-gate.js';
import { openMakingFolder } from './own-partial.js';
import { exists, removeIfPresent } from './publish-blob.js';
import { DEFAULT_RANGES, rangedTransfer, usesRanges } from './ranged-transfer.js';
import { isResumeRecord } from './resume-record.js';
import { transfer, type TransferSettings } from './transfer.js';
import type { DownloadBlobParams, DownloadBlobResult, DownloadFs, DownloadTimeouts, RetryPolicy } from './types.js';

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
 * more than it saves). Since chunks move to the worker without a copy, 1 MiB pays: it raised
 * throughput and took CPU off the main thread (figures in docs/benchmarks.md).
 */
export const THREADED_HASH_MIN_BYTES = 1024 * 1024;

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
    const settings = settingsFor(params, fs);
    const ranges = { ...DEFAULT_RANGES, ...params.ranges };
    const resumesRanged = (params.resumeFrom ?? []).some(isResumeRecord);
    if (usesRanges(expected.size, ranges) && (resumesRanged || ranges.budget?.hasFree() !== false)) {
      return await rangedTransfer(params, settings, hasher, ranges, (n) => (offset = n), (p) => transfer(p, settings, hasher, (n) => (offset = n)));
    }
    // A ranged download's resume record is no partial of this path: dropped (its partial is then taken as a prefix; the hash decides).
    const records = (params.resumeFrom ?? []).filter(isResumeRecord);
    for (const p of records) await removeIfPresent(fs, p);
    const resumeFrom = records.length ? params.resumeFrom!.filter((p) => !isResumeRecord(p)) : params.resumeFrom;
    return await transfer({ ...params, resumeFrom }, settings, hasher, (n) => (offset = n));
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

/** The parameters with every default filled in. */
function settingsFor(params: DownloadBlobParams, fs: DownloadFs): TransferSettings {
  const hubOrigin = new URL(params.hubOrigin).origin;
  return {
    fs,
    got: params.got ?? defaultGot,
    gate: params.gate ?? processGate,
    now: params.now ?? Date.now,
    random: params.random ?? Math.random,
    sleep: params.sleep ?? ((ms, signal) => sleepTimer(ms, undefined, { signal })),
    policy: { ...DEFAULT_RETRY, ...params.retry },
    timeouts: { ...DEFAULT_TIMEOUTS, ...params.timeouts },
    hubOrigin,
    hubUrl: params.hubUrl ?? hubOrigin,
  };
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

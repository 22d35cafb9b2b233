// Parameter and result types of the download engine (`downloadBlob`).
import type { Got } from 'got';
import type { BlobExpectation, HttpHeaders } from '@hfhpc/core';
import type { HashWorkerPool } from './hash-worker-pool.js';
import type { ConnectionBudget } from './connection-budget.js';

/**
 * The cluster-wide request throttle: `wait` before every request to the Hub, `pause` after a
 * 429 so every task waits. The worker backs it with the store's `throttle` table
 * (`createThrottleGate`); `createMemoryGate` is the in-process one.
 */
export interface DownloadGate {
  /** Resolves once no pause is in effect; rejects when `signal` aborts. */
  wait(signal?: AbortSignal): Promise<void>;
  /** No request to the Hub before `untilMs` (epoch ms). Extends, never shortens, a pause. */
  pause(untilMs: number, reason: string): void | Promise<void>;
  /** Called with the headers of every answer from the Hub (not the CDN), whatever its status. */
  observe?(headers: HttpHeaders | undefined): void;
}

/** Where log lines go. A winston `Logger` fits; lines are per event (retry, resume), never per chunk. */
export interface DownloadLog {
  debug(message: string, meta?: Record<string, unknown>): unknown;
  info(message: string, meta?: Record<string, unknown>): unknown;
  warn(message: string, meta?: Record<string, unknown>): unknown;
}

/** Retry budget. Failures are counted since the last progress, so a long file survives many drops. */
export interface RetryPolicy {
  /** Consecutive failed attempts without new bytes on disk before giving up. Default 8. */
  maxAttempts: number;
  /** Time without new bytes on disk (waits included) before giving up. Default 15 min. */
  maxTotalMs: number;
  /** Backoff base (see core `retryDelay`). Default 1000 ms. */
  baseMs: number;
  /** Backoff cap. Default 60 000 ms. */
  capMs: number;
  /** Full re-downloads after a size/hash mismatch before `IntegrityError`. Default 2. */
  maxIntegrityRetries: number;
}

export interface DownloadTimeouts {
  /** TCP (and TLS) connect. Default 10 000 ms. */
  connectMs: number;
  /** Request sent → response headers. Default 30 000 ms. */
  firstByteMs: number;
  /** No body bytes for this long (while not waiting on the disk) → abort and resume. Default 30 000 ms. */
  stallMs: number;
}

/**
 * The claim the bytes are written under (the worker's shard lease). The engine knows nothing
 * of the store; these hooks are how the fence reaches the bytes.
 */
export interface DownloadLease {
  /** Epoch ms (the `now` clock) until which this process may write without asking again. */
  writableUntil(): number;
  /**
   * Called once `writableUntil` has passed, before anything more is written: resolves when the
   * lease turned out to be still this claim's (renewed), rejects (LeaseLostError) when it is not.
   */
  confirm(): Promise<void>;
  /** Right before a verified blob is published: rejects (StaleFenceError) unless the claim still holds the shard's current fence. */
  beforePublish(): Promise<void>;
}

/** The filesystem calls the engine makes; injectable so tests can fail them (ENOSPC). */
export interface DownloadFs {
  open: typeof import('node:fs/promises').open;
  mkdir: typeof import('node:fs/promises').mkdir;
  link: typeof import('node:fs/promises').link;
  rename: typeof import('node:fs/promises').rename;
  unlink: typeof import('node:fs/promises').unlink;
  stat: typeof import('node:fs/promises').stat;
  lstat: typeof import('node:fs/promises').lstat;
  copyFile: typeof import('node:fs/promises').copyFile;
}

/** Parallel ranges for large blobs (see ranged-transfer.ts). */
export interface RangeOptions {
  /** Most connections one blob uses at once; 1 turns parallel ranges off. Default 8. */
  connections: number;
  /** Blobs of at least this many bytes may use several connections. Default 64 MiB. */
  minBytes: number;
  /** Bytes one connection claims at a time. Default 32 MiB. */
  segmentBytes: number;
  /** The throughput window after which one more step of connections is tried. Default 500 ms. */
  windowMs: number;
  /** Relative growth an added step must bring to be kept. Default 0.1. */
  minGain: number;
  /** The task's connections, shared by its downloads: a connection beyond a blob's first is added only while one is free. Default: none (only `connections` bounds a blob). */
  budget?: ConnectionBudget;
}

export interface DownloadBlobParams {
  /** Resolve URL at the pinned commit (`resolveUrl`), path percent-encoded per segment. */
  url: string;
  /** Origin (scheme://host:port) of the Hub: the only origin that ever receives the token. */
  hubOrigin: string;
  /** Hub base URL for links in error messages (`<hubUrl>/datasets/<repo>`). Default `hubOrigin`. */
  hubUrl?: string;
  /** Sent as `Authorization: Bearer …` to `hubOrigin` only, never across a redirect to the CDN. */
  token?: string;
  /**
   * This call's own partial file (`blobs/<etag>.<tag>.incomplete`, a name no other claim uses).
   * It is always a new inode created here: a file already at this name is taken over like the
   * `resumeFrom` ones (moved aside, its bytes copied into the new file).
   */
  partialPath: string;
  /**
   * Partial files of earlier claims of this blob (and the legacy `<etag>.incomplete`): the
   * longest one that fits is copied into `partialPath` and re-hashed from there, then every one
   * is removed, so a stale writer still holding one open writes into a file nobody reads.
   */
  resumeFrom?: string[];
  /** The lease the bytes are written under: checked before every write batch and before publishing. */
  lease?: DownloadLease;
  /** `blobs/<etag>`; written only by linking (or renaming) this call's verified partial, never overwritten. */
  finalPath: string;
  /** Size and hash from the plan: sha256 for LFS files, git blob sha1 otherwise (one is required unless size is 0). */
  expected: BlobExpectation;
  /** `org/name`, for messages. */
  repo: string;
  /** Path in the repo, for messages. */
  path: string;
  /** Pinned commit, for messages. */
  revision?: string;
  /** Aborting keeps the partial file and rejects promptly (InterruptedError, or the reason if it is an HfhpcError). */
  signal?: AbortSignal;
  /** Bytes of the blob on disk so far (resumed bytes included; drops to 0 on a restart). Called at most every `progressIntervalMs` and once at the end. */
  onProgress?: (bytesDone: number) => void;
  /** Default 1000 ms. */
  progressIntervalMs?: number;
  retry?: Partial<RetryPolicy>;
  /** Parallel ranges for large blobs; `{ connections: 1 }` turns them off. */
  ranges?: Partial<RangeOptions>;
  /** Default: one gate shared by every download of this process (`processGate`). */
  gate?: DownloadGate;
  timeouts?: Partial<DownloadTimeouts>;
  /**
   * Where the hash runs: `worker` (a worker thread, beside the network loop), `local` (this
   * thread), or `auto` (default): a worker for blobs of 1 MiB and more when there are 2+ cores.
   */
  hashThread?: 'auto' | 'worker' | 'local';
  /** Default: one pool per process (`defaultHashPool`). */
  hashPool?: HashWorkerPool;
  /** Default: got's default instance. */
  got?: Got;
  /** Default: node:fs/promises. When given, every write goes through its file handles (none on the hash thread). */
  fs?: DownloadFs;
  /** Default `Date.now`. */
  now?: () => number;
  /** Default `Math.random` (backoff jitter). */
  random?: () => number;
  /** Abortable wait used for backoff and 429 pauses. Default `timers/promises.setTimeout`. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<unknown>;
  log?: DownloadLog;
}

export interface DownloadBlobResult {
  /** Bytes received from the network and written, over all attempts. */
  bytesFetched: number;
  /** Bytes of an earlier partial file that were re-hashed and kept. */
  resumedFrom: number;
  /** HTTP attempts made (a resolve and its redirects count as one). 0 when nothing was requested. */
  attempts: number;
  /** True when `finalPath` already existed: nothing fetched, the partial (if any) removed. */
  skipped: boolean;
  /** The verified sha256 (LFS files). */
  sha256?: string;
  /** The verified git blob sha1 (regular files). */
  gitSha1?: string;
}

import type { CacheDirs, Claim, Logger, ShardFile, Store } from '@hfhpc/core';
import type { DownloadFn } from '../download-fn.js';
import type { DownloadLease } from '../download/index.js';
import type { DoneRecorder } from '../done-recorder.js';
import type { ProgressMeter } from '../progress-meter.js';
import type { RequestGate } from '../throttle-gate.js';
import type { ConnectionBudget } from '../download/connection-budget.js';

/** Where per-file byte counts go between flushes (core's ProgressBatcher). */
export interface ProgressSink {
  update(fileId: number, bytesDone: number): void;
  /** The file was marked done or failed: drop its unwritten count. */
  forget(fileId: number): void;
}

export interface RunShardParams {
  store: Store;
  claim: Claim;
  /** Files read from the database per page (default 1,000); the shard is never held whole. */
  pageSize?: number;
  /** Called with each page's files before any is placed (the repos' metadata). */
  onPage?: (files: readonly ShardFile[]) => Promise<void>;
  /** Cache root (absolute). */
  root: string;
  hubUrl: string;
  token?: string;
  /** Blobs fetched at once. */
  concurrency: number;
  /** The task's connections: each group in flight holds one (a ranged blob adds more only while one is free). */
  connections?: ConnectionBudget;
  download: DownloadFn;
  gate: RequestGate;
  meter: ProgressMeter;
  progress: ProgressSink;
  /** Finished and failed files (and the stat of blobs this run downloaded and hashed); written in batches. */
  done: Pick<DoneRecorder, 'done' | 'failed'> & Partial<Pick<DoneRecorder, 'blobVerified'>>;
  /** Aborted on a stop signal (reason InterruptedError) or a lost lease (LeaseLostError). */
  signal: AbortSignal;
  log: Logger;
  /** Re-hash blobs already at their final path even when recorded done (`plan --force`). */
  recheckBlobs?: boolean;
  /** The claim's lease as the download engine checks it (before every write batch and before publishing). */
  lease?: DownloadLease;
  /**
   * The root's folder checker for this shard run (the plan's allow_symlinked_dirs): every cache
   * folder is made or checked once, and a symlink hfhpc did not make stops the shard. Default:
   * a new, strict one.
   */
  dirs?: CacheDirs;
}

export interface ShardFailure {
  repo: string;
  path: string;
  error: string;
}

export interface RunShardResult {
  filesDone: number;
  failures: ShardFailure[];
  /** Most files held in memory at once (waiting or in flight), and pages read: memory follows these, not the shard. */
  maxFilesHeld: number;
  pages: number;
}

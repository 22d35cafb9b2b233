// Worker threads that hash blobs for the download engine, and have them written too. A network
// batch goes to the worker in one message without a copy (each chunk owns its ArrayBuffer, which
// is transferred); the worker hashes it while libuv's pool writes it at its offset, and sends the
// memory back with the ack once both are done (the main thread frees it at its next scavenge).
// The main thread thus only receives, instead of writing through its own libuv requests and
// hashing after.
// Writes of one blob land in order; a slow disk holds back that blob, not the others' hashes.
// Bytes the caller keeps (the resume re-hash) are copied into 1 MiB staging buffers instead.
// A blob may have up to `buffersPerHash` MiB and its fair share of the pool's
// `stagingBudgetBytes` in flight (always at least one message): that bounds memory however many
// downloads run, and pushes back on the network stream when the disk or the hash falls behind.
import { availableParallelism } from 'node:os';
import { PoolWorker } from './hash-pool-worker.js';
import { PoolHash, type PoolBudget } from './pool-hash.js';
import type { HashAlgorithm, StreamHash } from './stream-hash.js';

// Small enough that a batch is still in the CPU cache when the hash thread reads it and the
// kernel copies it into the page cache (the socket delivers 64 KiB chunks; a 2 MiB batch was
// read back from memory twice); large enough that messages stay few.
const BATCH_BYTES = 256 * 1024;

export interface HashWorkerPoolParams {
  /** Worker threads at most. Default: available cores − 1, between 1 and 4. */
  maxWorkers?: number;
  /** Staging buffers of 1 MiB in flight per hash at most. Default 8 (deep enough to ride out scheduling hiccups). */
  buffersPerHash?: number;
  /** All staging buffers and batch bytes in flight of the pool together. Default 8 MiB. */
  stagingBudgetBytes?: number;
  /** Size of one staging buffer: one message to the worker and one back per buffer. Default 1 MiB. */
  stagingBufferBytes?: number;
}

export class HashWorkerPool {
  private readonly workers: PoolWorker[] = [];
  private readonly maxWorkers: number;
  private readonly acct: PoolBudget;
  private nextId = 1;

  constructor(params: HashWorkerPoolParams = {}) {
    this.maxWorkers = params.maxWorkers ?? Math.max(1, Math.min(4, availableParallelism() - 1));
    this.acct = {
      buffersPerHash: params.buffersPerHash ?? 8,
      budget: params.stagingBudgetBytes ?? 8 * 1024 * 1024,
      stagingBytes: params.stagingBufferBytes ?? 1024 * 1024,
      staged: 0,
      live: 0,
      lent: 0,
      batchBytes: () => this.batchBytes(),
    };
  }

  /** Bytes of staging buffers held by live hashes (≤ the budget, plus one buffer per hash). */
  get stagedBytes(): number {
    return this.acct.staged;
  }

  /** Bytes of batches sent to a worker and not yet written and hashed. */
  get lentBytes(): number {
    return this.acct.lent;
  }

  /** A hash on the least busy worker (a new one while under `maxWorkers` and all are busy). */
  start(algorithm: HashAlgorithm, prefix?: string): StreamHash {
    const live = this.workers.filter((w) => !w.failure);
    this.workers.splice(0, this.workers.length, ...live);
    let pw = live.find((w) => w.jobs.size === 0);
    if (!pw && live.length < this.maxWorkers) {
      pw = new PoolWorker((job, delta) => {
        job.lent += delta;
        this.acct.lent += delta;
      });
      this.workers.push(pw);
    }
    pw ??= live.reduce((a, b) => (b.jobs.size < a.jobs.size ? b : a));
    return new PoolHash(pw, this.acct, this.nextId++, algorithm, prefix);
  }

  /**
   * Bytes a writing hash gathers per batch: 256 KiB however many streams run. What a hash may
   * have in flight (its fair share of the budget) is what bounds memory, not the batch.
   */
  batchBytes(): number {
    return BATCH_BYTES;
  }

  /** Stop every worker (tests, shutdown). Hashes in progress fail. */
  async close(): Promise<void> {
    const all = this.workers.splice(0);
    await Promise.all(all.map((w) => w.worker.terminate()));
  }
}

/** The pool `downloadBlob` uses unless given another. */
export const defaultHashPool = new HashWorkerPool();

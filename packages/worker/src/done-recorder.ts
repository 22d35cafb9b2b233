import { assertClaimFence, markFileDone, markFileFailed, recordBlobVerified, type Claim, type NewBlobVerification, type Store } from '@hfhpc/core';

export interface DoneRecorderParams {
  store: Store;
  /** The current claim (renewed by heartbeats; the fence stays). */
  claim: () => Claim;
  /** Write at least this often while files finish. Default 1,000 ms. */
  flushMs?: number;
  /** Write when this many files are waiting. Default 500. */
  maxBatch?: number;
  /** Default Date.now. */
  now?: () => number;
  /**
   * A background write (started by done/failed) failed, e.g. StaleFenceError after the lease
   * was lost: the worker stops the shard. The error is also thrown by the next flush().
   */
  onError?: (err: unknown) => void;
}

type Outcome = { fileId: number; bytes: number; error?: undefined } | { fileId: number; error: string };

/**
 * Records finished and failed files in batches: one fenced transaction per flush instead of
 * one per file. A commit on a shared filesystem costs several fsyncs, more on Lustre than on a
 * local disk, so a shard of small files would otherwise spend its time in the
 * database. Writes go through the store's asynchronous path in the background: the download
 * that finished a file never waits for the lock. A crash before a flush loses nothing: the
 * blob and link are already in place, and the next holder finds the blob and records the file
 * without a request.
 */
export class DoneRecorder {
  private readonly params: DoneRecorderParams;
  private readonly now: () => number;
  private waiting: Outcome[] = [];
  private blobs: NewBlobVerification[] = [];
  private lastFlush: number;
  private inFlight: Promise<void> | undefined;
  private failure: unknown = undefined;

  constructor(params: DoneRecorderParams) {
    this.params = params;
    this.now = params.now ?? Date.now;
    this.lastFlush = this.now();
  }

  /** The file is verified and in place. Throws the error of a failed background write. */
  done(fileId: number, bytes: number): void {
    this.add({ fileId, bytes });
  }

  /** The file could not be fetched: recorded failed (attempts + 1) with its reason. */
  failed(fileId: number, error: string): void {
    this.add({ fileId, error });
  }

  /** A blob this task downloaded and hashed, with its stat: written with the next batch. */
  blobVerified(record: NewBlobVerification): void {
    this.blobs.push(record);
  }

  /** Files recorded but not yet written. */
  get pending(): number {
    return this.waiting.length;
  }

  private add(o: Outcome): void {
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- the write's own rejection, as it was
    if (this.failure !== undefined) throw this.failure;
    this.waiting.push(o);
    if (this.inFlight === undefined && (this.waiting.length >= (this.params.maxBatch ?? 500) || this.now() - this.lastFlush >= (this.params.flushMs ?? 1000))) {
      this.flush().catch((err: unknown) => this.params.onError?.(err));
    }
  }

  /** Write every waiting file and blob record in one fenced transaction. */
  async flush(): Promise<void> {
    while (this.inFlight !== undefined) await this.inFlight.catch(() => undefined);
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- the write's own rejection, as it was
    if (this.failure !== undefined) throw this.failure;
    this.lastFlush = this.now();
    if (this.waiting.length === 0 && this.blobs.length === 0) return;
    const batch = this.waiting;
    const blobs = this.blobs;
    this.waiting = [];
    this.blobs = [];
    const { store } = this.params;
    const claim = this.params.claim();
    // One transaction: a lost fence (a mark refused) records no blob either.
    const write = store.writeAsync(() => {
      assertClaimFence(store, claim);
      for (const f of batch) {
        if (f.error === undefined) markFileDone(store, claim, { fileId: f.fileId, bytes: f.bytes });
        else markFileFailed(store, claim, { fileId: f.fileId, error: f.error });
      }
      recordBlobVerified(store, blobs);
    });
    this.inFlight = write;
    try {
      await write;
    } catch (err) {
      this.failure = err;
      throw err;
    } finally {
      this.inFlight = undefined;
    }
  }
}

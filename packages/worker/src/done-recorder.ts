import { assertFence, markFileDone, recordBlobVerified, type Claim, type NewBlobVerification, type Store } from '@hfhpc/core';

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
}

/**
 * Records finished files in batches: one fenced transaction per flush instead of one per file.
 * A commit on a shared filesystem costs several fsyncs (about 10 ms on a local ext4 disk,
 * more on Lustre), so a shard of small files would otherwise spend its time in the database.
 * A crash before a flush loses nothing: the blob and link are already in place, and the next
 * holder finds the blob and records the file without a request.
 */
export class DoneRecorder {
  private readonly params: DoneRecorderParams;
  private readonly now: () => number;
  private waiting: { fileId: number; bytes: number }[] = [];
  private blobs: NewBlobVerification[] = [];
  private lastFlush: number;

  constructor(params: DoneRecorderParams) {
    this.params = params;
    this.now = params.now ?? Date.now;
    this.lastFlush = this.now();
  }

  /** The file is verified and in place. May flush (and throw StaleFenceError if the lease is lost). */
  done(fileId: number, bytes: number): void {
    this.waiting.push({ fileId, bytes });
    if (this.waiting.length >= (this.params.maxBatch ?? 500) || this.now() - this.lastFlush >= (this.params.flushMs ?? 1000)) this.flush();
  }

  /** A blob this task downloaded and hashed, with its stat: written with the next batch. */
  blobVerified(record: NewBlobVerification): void {
    this.blobs.push(record);
  }

  /** Files recorded but not yet written. */
  get pending(): number {
    return this.waiting.length;
  }

  /** Write every waiting file in one transaction (the fence is checked by each mark). */
  flush(): void {
    this.lastFlush = this.now();
    if (this.waiting.length === 0 && this.blobs.length === 0) return;
    const batch = this.waiting;
    const blobs = this.blobs;
    const { store } = this.params;
    const claim = this.params.claim();
    // One transaction: a lost fence (a mark refused) records no blob either.
    store.write((db) => {
      assertFence(db, claim);
      for (const f of batch) markFileDone(store, claim, { fileId: f.fileId, bytes: f.bytes });
      recordBlobVerified(store, blobs);
    });
    this.waiting = [];
    this.blobs = [];
  }
}

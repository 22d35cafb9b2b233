// Download progress is recorded in batches: per-file bytes_done is collected in memory and
// written in one fenced transaction every few seconds or megabytes, so a task costs the
// shared database a write every few seconds, not one per chunk. Writes go through the store's
// asynchronous path: a busy database never holds up the stream that reported the bytes.
import { assertFence } from './fence.js';
import type { Store } from './open-store.js';
import { stmt } from './statements.js';
import type { Claim } from './types.js';

export interface ProgressBatcherOptions {
  store: Store;
  claim: Claim;
  /** Flush when this long has passed since the last flush. Default 5000 ms. */
  flushMs?: number;
  /** Flush when this many new bytes were reported since the last flush. Default 64 MiB. */
  flushBytes?: number;
  /** Default store.now. */
  now?: () => number;
  /**
   * Called when an automatic (background) flush started by update() failed, e.g.
   * StaleFenceError after the lease was lost: the worker should stop the shard's downloads.
   * The error is also thrown by the next flush() or close(). Default: none.
   */
  onError?: (err: unknown) => void;
}

export class ProgressBatcher {
  private readonly store: Store;
  private claim: Claim;
  private readonly flushMs: number;
  private readonly flushBytes: number;
  private readonly now: () => number;
  private readonly onError?: (err: unknown) => void;
  /** fileId → latest bytes_done not yet written. */
  private readonly pending = new Map<number, number>();
  /** fileId → bytes_done as last written or first seen, to count new bytes. */
  private readonly known = new Map<number, number>();
  private newBytes = 0;
  private lastFlush: number;
  private failure: unknown = undefined;
  private inFlight: Promise<void> | undefined;
  /** Number of write transactions done so far. */
  flushes = 0;

  constructor(options: ProgressBatcherOptions) {
    this.store = options.store;
    this.claim = options.claim;
    this.flushMs = options.flushMs ?? 5000;
    this.flushBytes = options.flushBytes ?? 64 * 1024 * 1024;
    this.now = options.now ?? options.store.now;
    this.onError = options.onError;
    this.lastFlush = this.now();
  }

  /** Use a renewed claim (after heartbeat); the fence stays the same. */
  setClaim(claim: Claim): void {
    this.claim = claim;
  }

  /** Record that `bytesDone` bytes of the file are on disk (absolute, may go down on a restart). */
  update(fileId: number, bytesDone: number): void {
    if (this.failure !== undefined) return;
    const before = this.known.get(fileId) ?? 0;
    if (bytesDone > before) this.newBytes += bytesDone - before;
    this.known.set(fileId, bytesDone);
    this.pending.set(fileId, bytesDone);
    if (this.inFlight === undefined && (this.newBytes >= this.flushBytes || this.now() - this.lastFlush >= this.flushMs)) {
      // In the background: the caller (a socket's data handler) never waits for the database.
      this.flush().catch((err: unknown) => this.onError?.(err));
    }
  }

  /** Forget a file's unwritten progress (it was just marked done or failed). */
  forget(fileId: number): void {
    this.pending.delete(fileId);
    this.known.delete(fileId);
  }

  /**
   * Write everything collected in one fenced transaction (nothing if nothing is new), through
   * the store's asynchronous path; waits for a write already under way first.
   */
  async flush(): Promise<void> {
    while (this.inFlight !== undefined) await this.inFlight.catch(() => undefined);
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- the write's own rejection, as it was
    if (this.failure !== undefined) throw this.failure;
    this.lastFlush = this.now();
    if (this.pending.size === 0) return;
    const entries = [...this.pending];
    this.pending.clear();
    this.newBytes = 0;
    const claim = this.claim;
    const write = this.store.writeAsync((db) => {
      assertFence(db, claim);
      // Only files still in flight: a done file's bytes_done is final.
      const upd = stmt(db, "UPDATE files SET bytes_done = ?, updated_at = ? WHERE id = ? AND shard_id = ? AND state IN ('pending', 'running')");
      const at = this.store.now();
      for (const [fileId, bytes] of entries) upd.run(bytes, at, fileId, claim.shardId);
    });
    this.inFlight = write;
    try {
      await write;
      this.flushes++;
    } catch (err) {
      this.failure = err;
      this.pending.clear();
      throw err;
    } finally {
      this.inFlight = undefined;
    }
  }

  /** Final flush; call (and await) before finishShard/releaseLease. */
  close(): Promise<void> {
    return this.flush();
  }
}

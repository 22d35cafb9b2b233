import { LeaseLostError, ProgressBatcher, StaleFenceError, heartbeat, type Claim, type Logger, type Store } from '@hfhpc/core';
import type { DownloadLease } from './download/index.js';
import { DoneRecorder } from './done-recorder.js';
import { startHeartbeat, type Heartbeat } from './heartbeat.js';
import type { ProgressSink } from './shard/types.js';

export const isLeaseError = (err: unknown): err is LeaseLostError | StaleFenceError => err instanceof LeaseLostError || err instanceof StaleFenceError;

export interface ShardLeaseParams {
  store: Store;
  claim: Claim;
  ttlMs: number;
  /** How often progress is written to the database. */
  progressFlushMs: number;
  /** Aborted (with the reason) when the lease is lost or the database cannot be written. */
  abort: AbortController;
  now: () => number;
  log: Logger;
}

/**
 * The lease of one claimed shard while it is worked on: heartbeats renew it, and every write
 * path (progress, done files, the download engine's writes and publishes) goes through it.
 */
export class ShardLease {
  private current: Claim;
  private confirming: Promise<void> | undefined;
  private over = false;
  /**
   * Writable until a margin before the lease's expiry (a clock a little off on another host
   * still finds it expired only after we stopped writing).
   */
  private readonly margin: number;
  readonly batcher: ProgressBatcher;
  readonly doneFiles: DoneRecorder;
  private readonly hb: Heartbeat;

  constructor(private readonly p: ShardLeaseParams) {
    const { store, abort } = p;
    this.current = p.claim;
    // Time-based flushes only: a commit blocks the event loop for its fsyncs (all streams wait),
    // so not one per 64 MiB on a fast link.
    this.batcher = new ProgressBatcher({ store, claim: this.current, flushMs: p.progressFlushMs, flushBytes: Number.MAX_SAFE_INTEGER, onError: (err) => isLeaseError(err) && this.lost(err) });
    this.doneFiles = new DoneRecorder({ store, claim: () => this.current, onError: (err) => !abort.signal.aborted && abort.abort(err) });
    this.margin = p.ttlMs / 4;
    this.hb = startHeartbeat({
      intervalMs: p.ttlMs / 4,
      beat: () => this.beat(),
      onLost: (err) => this.lost(err),
      onError: (err) => p.log.warn(`heartbeat failed, retrying: ${(err as Error).message}`),
    });
  }

  /** The claim as last renewed. */
  get claim(): Claim {
    return this.current;
  }

  private lost(err: LeaseLostError | StaleFenceError): void {
    if (!this.p.abort.signal.aborted) this.p.abort.abort(err);
  }

  private async beat(): Promise<void> {
    const { store, ttlMs } = this.p;
    this.current = await store.writeAsync(() => heartbeat(store, this.current, { ttlMs }), { urgent: true });
    this.batcher.setClaim(this.current);
  }

  private pastDeadline(): boolean {
    return this.p.now() >= this.current.expiresAt - this.margin;
  }

  /**
   * Past the local deadline (the process was stopped, the node froze) the lease may or may not
   * still be ours: only the database can say. Writes wait for that answer; the lease is lost
   * only when the database says so, never because the local clock ran past it.
   */
  confirm(): Promise<void> {
    this.confirming ??= this.askDatabase().finally(() => (this.confirming = undefined));
    return this.confirming;
  }

  private async askDatabase(): Promise<void> {
    const { abort } = this.p;
    if (abort.signal.aborted) throw abort.signal.reason;
    if (this.over) throw new LeaseLostError(`shard ${this.current.index} is no longer worked on by this task`, { hint: 'nothing to do' });
    try {
      // writeAsync waits for a busy lock on timers, within the store's retry budget.
      await this.beat();
    } catch (err) {
      // Taken by another claim, or the database is unusable (moved, deleted, locked past the
      // retry budget): either way nothing more is written for this shard.
      if (isLeaseError(err)) this.lost(err);
      else if (!abort.signal.aborted) abort.abort(err);
      throw err;
    }
  }

  /**
   * Publishing needs the fence to be this claim's. The last heartbeat checked it in the database
   * (owner and fence) and no other claim can exist before that lease expires: release, finish
   * and expiry are ours or come after the expiry, and cleanup takes back only a dead holder's.
   * So within the deadline that check stands; past it, `confirm` asks the database again. No
   * database read per blob: in rollback-journal mode a read waits on every writer's lock.
   */
  downloadLease(): DownloadLease {
    return {
      writableUntil: () => this.current.expiresAt - this.margin,
      confirm: () => this.confirm(),
      beforePublish: async () => {
        if (this.pastDeadline()) await this.confirm();
      },
    };
  }

  /** Per-file byte counts, batched; past the deadline each one has the database asked again. */
  progressSink(): ProgressSink {
    return {
      update: (fileId: number, bytes: number): void => {
        if (this.pastDeadline()) this.confirm().catch(() => undefined);
        this.batcher.update(fileId, bytes);
      },
      forget: (fileId: number): void => this.batcher.forget(fileId),
    };
  }

  stopHeartbeat(): void {
    this.hb.stop();
  }

  /** No more work on this shard: a later `confirm` fails, no more heartbeats. */
  end(): void {
    this.over = true;
    this.hb.stop();
  }
}

// A Writable that writes each batch at an explicit offset of an open file and hashes it, and
// counts a batch as landed (`position`) only once it is both on disk and hashed, so the hash
// state matches the bytes on disk whenever it is read: destroy waits for the writes in flight. Small network chunks are gathered into batches of
// `batchBytes` (one writev each, not one per 64 KiB chunk); what is gathered is written after
// `idleFlushMs` without a full batch, and on `end()`. Nothing is read back.
// With a threaded hash, a batch is written and hashed on the hash's thread and the stream goes
// on at once; the hash's pool sets the batch size and bounds the bytes in flight. Otherwise a
// batch is written here through the file handle, one at a time (memory: `highWaterMark` +
// `batchBytes` + one batch).
import type { FileHandle } from 'node:fs/promises';
import { Writable } from 'node:stream';
import type { BatchTicket, StreamHash } from './stream-hash.js';
import type { DownloadLease } from './types.js';
import { writeAll } from './write-all.js';

export interface HashingFileSinkParams {
  handle: FileHandle;
  /** File offset of the first byte written. */
  position: number;
  /** Hash state covering bytes [0, position) of the file. */
  hash: StreamHash;
  /** Refuse to grow the file beyond this many bytes (the expected size). */
  limit: number;
  /** Bytes buffered before backpressure. Default 256 KiB. */
  highWaterMark?: number;
  /** Have the hash's thread write when it offers to (`writeAndUpdate`). Default true; false keeps every write on `handle`. */
  writeOnHashThread?: boolean;
  /** Gather at least this many bytes per write, unless the hash's thread writes (its pool says). Default 1 MiB. */
  batchBytes?: number;
  /** Write a partial batch after this long (a slow or stalled body still reaches the disk). Default 50 ms. */
  idleFlushMs?: number;
  /**
   * No batch is written once `lease.writableUntil()` has passed until `lease.confirm()` says
   * the lease is still ours; when it is lost, the write fails with its error and nothing more
   * lands. The bytes a frozen process finds in its socket on waking go nowhere.
   */
  lease?: DownloadLease;
  /** Clock for the lease check. Default Date.now. */
  now?: () => number;
}

export class HashingFileSink extends Writable {
  /** Offset after the last byte written and handed to the hash. */
  position: number;
  /** Bytes accepted from the source (written, in flight or gathered): what stall detection watches. */
  received: number;
  /** Set when the source sent more bytes than `limit`. */
  overflow = false;
  /** The filesystem error that failed a write, if any (ENOSPC, EROFS, …). */
  writeError?: NodeJS.ErrnoException;
  private readonly handle: FileHandle;
  private readonly hash: StreamHash;
  private readonly limit: number;
  private readonly batchBytes: number;
  private readonly idleFlushMs: number;
  private readonly writeOnHashThread: boolean;
  /** Settles after the last batch issued (batches land in order). */
  private inFlight: Promise<void> = Promise.resolve();
  private gathered: Buffer[] = [];
  private gatheredBytes = 0;
  /** Offset after the last byte handed to a write (position catches up when it lands). */
  private issued: number;
  private idleTimer?: NodeJS.Timeout;
  /** A failed idle flush, reported to the next write or end. */
  private laterError?: Error;
  private readonly lease?: DownloadLease;
  private readonly now: () => number;

  constructor(params: HashingFileSinkParams) {
    super({ highWaterMark: params.highWaterMark ?? 256 * 1024, decodeStrings: true });
    this.handle = params.handle;
    this.position = params.position;
    this.received = params.position;
    this.issued = params.position;
    this.batchBytes = params.batchBytes ?? 1024 * 1024;
    this.writeOnHashThread = params.writeOnHashThread ?? true;
    this.idleFlushMs = params.idleFlushMs ?? 50;
    this.hash = params.hash;
    this.limit = params.limit;
    this.lease = params.lease;
    this.now = params.now ?? Date.now;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.accept([chunk], callback);
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, callback: (error?: Error | null) => void): void {
    this.accept(
      chunks.map((c) => c.chunk),
      callback,
    );
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.laterError) {
      callback(this.laterError);
      return;
    }
    if (this.gatheredBytes > 0) {
      this.whenWritable(
        () => {
          this.flush();
          this.inFlight.then(() => callback(this.laterError), callback);
        },
        callback,
      );
      return;
    }
    this.inFlight.then(() => callback(this.laterError), callback);
  }

  /**
   * Resolves once no write is in flight. `pipeline` may reject before our `_destroy` finished,
   * so read `position` (and touch the file) only after this.
   */
  settled(): Promise<void> {
    return this.inFlight.then(
      () => undefined,
      () => undefined,
    );
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    clearTimeout(this.idleTimer);
    // The file handle belongs to the caller; only wait until our last write has landed.
    this.inFlight.then(
      () => callback(error),
      () => callback(error),
    );
  }

  private accept(buffers: Buffer[], callback: (error?: Error | null) => void): void {
    if (this.laterError) {
      callback(this.laterError);
      return;
    }
    let total = 0;
    for (const b of buffers) total += b.length;
    if (this.received + total > this.limit) {
      this.overflow = true;
      callback(new RangeError(`more bytes than the expected ${this.limit}`));
      return;
    }
    this.received += total;
    for (const b of buffers) this.gathered.push(b);
    this.gatheredBytes += total;
    const batchBytes = this.writeOnHashThread && this.hash.batchBytes ? this.hash.batchBytes() : this.batchBytes;
    if (this.gatheredBytes >= batchBytes || this.received === this.limit) {
      this.whenWritable(() => this.flush(callback), callback);
      return;
    }
    this.idleTimer ??= setTimeout(() => this.whenWritable(() => this.flush()), this.idleFlushMs).unref();
    callback();
  }

  /**
   * Run `write` now while the lease is known to be held, else once it is confirmed; a lost
   * lease fails the sink instead (the callback's, or the next write's, error).
   */
  private whenWritable(write: () => void, callback?: (error?: Error | null) => void): void {
    if (!this.lease || this.now() < this.lease.writableUntil()) {
      write();
      return;
    }
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    this.lease.confirm().then(write, (err: Error) => {
      this.laterError ??= err;
      callback?.(err);
    });
  }

  /**
   * Write and then hash what is gathered, after the previous batch (hash order = file order).
   * With a callback (a Writable write or end) it reports there; an idle flush keeps its
   * error for the next one.
   */
  private flush(callback?: (error?: Error | null) => void): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    if (this.laterError) {
      callback?.(this.laterError);
      return;
    }
    if (this.gatheredBytes === 0) {
      // An idle flush that waited on the lease found its bytes taken by a later full batch.
      callback?.();
      return;
    }
    const buffers = this.gathered;
    const total = this.gatheredBytes;
    this.gathered = [];
    this.gatheredBytes = 0;
    const at = this.issued;
    this.issued += total;
    const landed = (): void => {
      this.position = at + total;
    };
    const failed = (err: NodeJS.ErrnoException): void => {
      if (err.syscall) this.writeError ??= err;
      this.laterError ??= err;
    };
    if (this.writeOnHashThread && this.hash.writeAndUpdate) {
      // The hash's thread has it written and hashes it: nothing to wait for here but room.
      let ticket: BatchTicket;
      try {
        ticket = this.hash.writeAndUpdate(this.handle.fd, at, buffers);
      } catch (err) {
        failed(err as Error);
        callback?.(err as Error);
        return;
      }
      this.inFlight = ticket.landed.then(landed, failed);
      if (!callback) return;
      if (ticket.room) ticket.room.then(() => callback(this.laterError), callback);
      else callback(this.laterError);
      return;
    }
    // Written first, then fed to the hash: the hash covers exactly the bytes on disk.
    this.inFlight = this.inFlight
      .then(() => writeAll(async (bufs, pos) => (await this.handle.writev(bufs, pos)).bytesWritten, buffers, at))
      .then(() => this.hash.update(buffers))
      .then(
        () => {
          landed();
          callback?.();
        },
        (err: NodeJS.ErrnoException) => {
          failed(err);
          callback?.(err);
        },
      );
  }
}

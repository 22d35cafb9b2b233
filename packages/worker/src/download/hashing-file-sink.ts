// A Writable that hashes each batch and writes it at an explicit offset of an open file, so the
// hash state always matches the bytes on disk: a batch is hashed when its write is issued, and
// destroy waits for the write in flight. Nothing is read back; memory is bounded by
// `highWaterMark` (+ the batch in flight).
import type { FileHandle } from 'node:fs/promises';
import { Writable } from 'node:stream';
import type { StreamHash } from './stream-hash.js';

export interface HashingFileSinkParams {
  handle: FileHandle;
  /** File offset of the first byte written. */
  position: number;
  /** Hash state covering bytes [0, position) of the file. */
  hash: StreamHash;
  /** Refuse to grow the file beyond this many bytes (the expected size). */
  limit: number;
  /** Bytes buffered before backpressure. Default 1 MiB: big writev batches, few syscalls. */
  highWaterMark?: number;
}

export class HashingFileSink extends Writable {
  /** Offset after the last byte written and hashed. */
  position: number;
  /** Set when the source sent more bytes than `limit`. */
  overflow = false;
  /** The filesystem error that failed a write, if any (ENOSPC, EROFS, …). */
  writeError?: NodeJS.ErrnoException;
  private readonly handle: FileHandle;
  private readonly hash: StreamHash;
  private readonly limit: number;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(params: HashingFileSinkParams) {
    super({ highWaterMark: params.highWaterMark ?? 1 << 20, decodeStrings: true });
    this.handle = params.handle;
    this.position = params.position;
    this.hash = params.hash;
    this.limit = params.limit;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.writeBatch([chunk], callback);
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, callback: (error?: Error | null) => void): void {
    this.writeBatch(chunks.map((c) => c.chunk), callback);
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
    // The file handle belongs to the caller; only wait until our last write has landed.
    this.inFlight.then(
      () => callback(error),
      () => callback(error),
    );
  }

  private writeBatch(buffers: Buffer[], callback: (error?: Error | null) => void): void {
    let total = 0;
    for (const b of buffers) total += b.length;
    if (this.position + total > this.limit) {
      this.overflow = true;
      callback(new RangeError(`more bytes than the expected ${this.limit}`));
      return;
    }
    const at = this.position;
    // The hash may ask us to wait (a worker thread behind); the write goes out after it took the bytes.
    const fed = this.hash.update(buffers);
    this.inFlight = (fed ? fed.then(() => writeAll(this.handle, buffers, at)) : writeAll(this.handle, buffers, at)).then(
      () => {
        this.position = at + total;
        callback();
      },
      (err: NodeJS.ErrnoException) => {
        if (err.syscall) this.writeError = err;
        callback(err);
      },
    );
  }
}

/** `writev` may write less than asked (it does not loop); finish the rest. */
async function writeAll(handle: FileHandle, buffers: Buffer[], position: number): Promise<void> {
  let pending = buffers;
  let at = position;
  while (pending.length) {
    const { bytesWritten } = await handle.writev(pending, at);
    at += bytesWritten;
    pending = skipBytes(pending, bytesWritten);
  }
}

function skipBytes(buffers: Buffer[], n: number): Buffer[] {
  let rest = n;
  let i = 0;
  while (i < buffers.length && rest >= buffers[i]!.length) rest -= buffers[i++]!.length;
  const out = buffers.slice(i);
  if (rest > 0 && out.length) out[0] = out[0]!.subarray(rest);
  return out;
}

// The in-order hash of a blob fetched over several ranged connections: as the contiguous prefix
// on disk grows, its new bytes are read back from the partial file (from the page cache, just
// written) and fed to the hash in order. One read buffer, so memory does not grow with the
// blob or with how far the connections run ahead.
import type { FileHandle } from 'node:fs/promises';
import type { StreamHash } from './stream-hash.js';

export interface PrefixHasherParams {
  handle: FileHandle;
  /** Covers bytes [0, from) of the file already. */
  hash: StreamHash;
  from: number;
  /** Every byte before this offset is on disk. */
  available: () => number;
  /** After each read batch was hashed (serialised: the next batch waits for it). */
  onAdvance?: (hashed: number) => Promise<void> | void;
  /** A read or hash failure (the hasher stops). */
  onError?: (err: unknown) => void;
  /** Read size. Default 2 MiB. */
  chunkBytes?: number;
}

export class PrefixHasher {
  /** Bytes fed to the hash. */
  hashed: number;
  error?: unknown;
  private running?: Promise<void>;
  private readonly buffer: Buffer;

  constructor(private readonly params: PrefixHasherParams) {
    this.hashed = params.from;
    this.buffer = Buffer.allocUnsafe(params.chunkBytes ?? 2 * 1024 * 1024);
  }

  /** The prefix grew: hash up to its end (a no-op while a run is already going; it looks again when done). */
  notify(): void {
    if (this.running || this.error !== undefined) return;
    if (this.params.available() <= this.hashed) return;
    this.running = this.run().then(
      () => {
        this.running = undefined;
        this.notify();
      },
      (err: unknown) => {
        this.running = undefined;
        this.error = err;
        this.params.onError?.(err);
      },
    );
  }

  /** Resolves once every available byte is hashed; rejects with a read or hash error. */
  async drain(): Promise<void> {
    this.notify();
    while (this.running) {
      await this.running;
      this.notify();
    }
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- rethrown as caught (a connection's or the hash's error)
    if (this.error !== undefined) throw this.error;
  }

  private async run(): Promise<void> {
    const { handle, hash, available, onAdvance } = this.params;
    for (let end = available(); this.hashed < end; end = available()) {
      const want = Math.min(this.buffer.length, end - this.hashed);
      const { bytesRead } = await handle.read(this.buffer, 0, want, this.hashed);
      if (bytesRead === 0) throw Object.assign(new Error(`partial file shorter than its landed bytes (${this.hashed})`), { code: 'ESHORTREAD' });
      // The buffer is reused next: update copies (threaded) or consumes (local) it first.
      await hash.update([this.buffer.subarray(0, bytesRead)]);
      this.hashed += bytesRead;
      await onAdvance?.(this.hashed);
    }
  }
}

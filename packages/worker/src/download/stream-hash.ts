// An incremental hash fed in order while a blob streams in. Two implementations: on the
// calling thread (small files), or on a worker thread (large files), so that sha256 — the
// largest per-byte cost of a verified download — runs beside the network loop instead of in it.
import { createHash } from 'node:crypto';

export type HashAlgorithm = 'sha256' | 'sha1';

export interface StreamHash {
  /**
   * Feed bytes, in order. The bytes may be reused by the caller as soon as this returns (or
   * its promise resolves): a threaded hash copies them. A promise means "wait, I am full".
   */
  update(chunks: readonly Buffer[]): void | Promise<void>;
  /**
   * Only on a threaded hash: have the chunks written to `fd` at `position` and fed to the hash,
   * in order with earlier updates, off the calling thread; `landed` settles once both are done,
   * so what the caller counts as landed is on disk and in the hash. The chunks' memory moves to
   * that thread (no copy): they are detached afterwards. After a failed write, later batches of
   * this hash are neither written nor hashed.
   */
  writeAndUpdate?(fd: number, position: number, chunks: readonly Buffer[]): BatchTicket;
  /** With `writeAndUpdate`: how many bytes to gather per batch right now. */
  batchBytes?(): number;
  /** Hex digest of everything fed; the hash is finished afterwards. */
  digest(): Promise<string>;
  /** Forget the state without a digest (restart, failure). Idempotent. */
  dispose(): void;
}

export interface BatchTicket {
  /** Settles once the batch is on disk and hashed; rejects with the write's error (ENOSPC, …). */
  landed: Promise<void>;
  /** Set when too many bytes are in flight: resolves when the caller may send more. */
  room?: Promise<void>;
}

/** A hash computed on the calling thread. */
export function localHash(algorithm: HashAlgorithm, prefix?: string): StreamHash {
  const hash = createHash(algorithm);
  if (prefix) hash.update(prefix);
  return {
    update(chunks) {
      for (const c of chunks) hash.update(c);
    },
    digest: async () => hash.digest('hex'),
    dispose() {},
  };
}

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
  update(chunks: readonly Buffer[], options?: UpdateOptions): void | Promise<void>;
  /** Hex digest of everything fed; the hash is finished afterwards. */
  digest(): Promise<string>;
  /** Forget the state without a digest (restart, failure). Idempotent. */
  dispose(): void;
}

export interface UpdateOptions {
  /**
   * The caller gives the chunks' memory away (it will not read or reuse them): a threaded hash
   * then moves each chunk that owns its whole ArrayBuffer to the worker instead of copying it.
   * The chunks are unusable (detached) afterwards. Default false.
   */
  handOver?: boolean;
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

import { createHash, type Hash } from 'node:crypto';
import { open } from 'node:fs/promises';

/** How a blob is named in the cache: sha256 of the content (LFS) or the git blob sha1. */
export type HashKind = 'sha256' | 'git-sha1';

export interface HashFileParams {
  /** File to hash. */
  path: string;
  /** sha256 of the content, or git blob sha1 (sha1 of `blob <size>\0` + content). */
  kind: HashKind;
  /** Called with the number of bytes read, once per chunk (for progress bars). */
  onBytes?: (n: number) => void;
  /** Aborts the read; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Read size in bytes. Default 1 MiB: large reads keep a parallel filesystem streaming. */
  chunkSize?: number;
}

export interface HashFileResult {
  /** Lower-case hex digest. */
  hex: string;
  /** Bytes hashed (the file's size when it was opened). */
  bytes: number;
}

/**
 * Hash a file in one sequential pass with bounded memory (one reused buffer). The git header
 * needs the size up front, so it is taken from the open descriptor, not from the plan: a
 * truncated file then hashes differently instead of being padded.
 */
export async function hashFile(params: HashFileParams): Promise<HashFileResult> {
  const { path, kind, onBytes, signal, chunkSize = 1 << 20 } = params;
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    const hash: Hash = createHash(kind === 'sha256' ? 'sha256' : 'sha1');
    if (kind === 'git-sha1') hash.update(`blob ${size}\0`);
    const buf = Buffer.allocUnsafe(chunkSize);
    let bytes = 0;
    for (;;) {
      signal?.throwIfAborted();
      const { bytesRead } = await fh.read(buf, 0, chunkSize, null);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
      bytes += bytesRead;
      onBytes?.(bytesRead);
    }
    return { hex: hash.digest('hex'), bytes };
  } finally {
    await fh.close();
  }
}

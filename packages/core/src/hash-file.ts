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

/** What a blob must be: its size and the hash that names it. */
export interface BlobExpectation {
  size: number;
  /** LFS files: the sha256 of the content. */
  sha256?: string;
  /** Regular git files: the git blob sha1, sha1("blob <size>\0" + content). */
  gitSha1?: string;
}

/**
 * Hash a file the way its blob name is computed (sha256 for LFS, git blob sha1 otherwise) and
 * compare it to the expectation. Returns the reason it does not match, or undefined if it does.
 */
export async function checkFile(params: { path: string; expected: BlobExpectation; signal?: AbortSignal }): Promise<string | undefined> {
  const { expected } = params;
  const { hex, bytes } = await hashFile({ path: params.path, kind: expected.sha256 ? 'sha256' : 'git-sha1', signal: params.signal });
  if (bytes !== expected.size) return `size ${bytes} != expected ${expected.size}`;
  const want = expected.sha256 ?? expected.gitSha1;
  if (want && hex !== want.toLowerCase()) return `${expected.sha256 ? 'sha256' : 'git sha1'} ${hex} != expected ${want}`;
  return undefined;
}

// The hash that names a blob, computed incrementally as bytes arrive: sha256 of the content for
// LFS files, the git blob sha1 (sha1 over "blob <size>\0" + content) for regular files.
import { InternalError } from '@hfhpc/core';
import type { BlobExpectation } from '@hfhpc/core';
import type { HashWorkerPool } from './hash-worker-pool.js';
import { localHash, type StreamHash } from './stream-hash.js';

/** git's sha1 of an empty blob, the name of every zero-length regular file. */
export const EMPTY_GIT_BLOB_SHA1 = 'e69de29bb2d1d6434b8b29ae775ad8c2e48c5391';
/** sha256 of no bytes. */
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

export type BlobHashKind = 'sha256' | 'gitSha1';

export interface BlobHasher {
  kind: BlobHashKind;
  /** Lower-case hex the content must hash to. */
  want: string;
  /** A fresh hash state for the content from byte 0 (the git header already fed). */
  start(): StreamHash;
}

/**
 * Pick the hash for an expectation: sha256 when given (LFS), else the git blob sha1; computed
 * on a worker of `pool` when given, else on the calling thread.
 */
export function blobHasher(expected: BlobExpectation, pool?: HashWorkerPool): BlobHasher {
  const { size } = expected;
  const make = (algorithm: 'sha256' | 'sha1', prefix?: string) => () => (pool ? pool.start(algorithm, prefix) : localHash(algorithm, prefix));
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new InternalError(`Expected \`expected.size\` to be a non-negative integer, got \`${String(size)}\` (${typeof size})`);
  }
  if (expected.sha256) {
    return { kind: 'sha256', want: expected.sha256.toLowerCase(), start: make('sha256') };
  }
  if (expected.gitSha1) {
    return { kind: 'gitSha1', want: expected.gitSha1.toLowerCase(), start: make('sha1', `blob ${size}\0`) };
  }
  if (size === 0) return { kind: 'gitSha1', want: EMPTY_GIT_BLOB_SHA1, start: make('sha1', 'blob 0\0') };
  throw new InternalError('Expected `expected.sha256` or `expected.gitSha1` for a non-empty blob, got neither');
}

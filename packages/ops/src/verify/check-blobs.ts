import { stat } from 'node:fs/promises';
import { hashFile, sameFingerprint, type BlobFingerprint, type HashKind } from '@hfhpc/core';
import { runPool } from './run-pool.js';

/** One blob file on disk and what the plan says it must be. */
export interface BlobCheck {
  /** Absolute path of `blobs/<etag>`. */
  path: string;
  kind: HashKind;
  /** Expected digest (lower-case hex): the LFS sha256 or the git blob sha1. */
  hex: string;
  /** Expected size in bytes. */
  size: number;
  /**
   * The blob's stat when its bytes were last known good. A blob whose stat still matches is
   * not read again; without one (never recorded, or `--force`) it is hashed.
   */
  recorded?: BlobFingerprint;
}

export type BlobVerdict =
  | { status: 'ok' }
  | { status: 'missing' }
  | { status: 'not-a-file' }
  | { status: 'size-mismatch'; actualSize: number }
  | { status: 'hash-mismatch'; actualHex: string };

export interface BlobResult {
  check: BlobCheck;
  verdict: BlobVerdict;
  /** True when the bytes were read under another name (a hard link of a blob already hashed). */
  shared: boolean;
  /** Bytes read to judge it: 0 when unchanged since recorded, or read under another name. */
  bytesHashed: number;
  /** Its stat before it was read; absent when there is no regular file. */
  fingerprint?: BlobFingerprint;
  /** True when the stat matched the record and the bytes were not read. */
  unchanged: boolean;
}

export interface VerifyProgress {
  blobsDone: number;
  blobsTotal: number;
  bytesDone: number;
  /** Sum of the expected sizes of all blobs to check (unchanged ones count as done at once). */
  bytesTotal: number;
  bad: number;
}

export interface CheckBlobsParams {
  checks: readonly BlobCheck[];
  /** Blobs hashed at once. Default 4: enough to keep a parallel filesystem busy on 2 cores. */
  concurrency?: number;
  /** Called after every chunk read and every blob finished; cheap to ignore. */
  onProgress?: (p: VerifyProgress) => void;
  /** Called as each blob is judged, so the caller can act on it before the run ends. */
  onResult?: (r: BlobResult) => Promise<void> | void;
  signal?: AbortSignal;
}

/**
 * Check each blob's stat (exists, regular file, size), then, unless the stat is the one
 * recorded when its bytes were last known good, its hash, reading every file once. Blobs that
 * are the same inode (hard links between repo folders, which the worker makes for shared
 * blobs) are read once and share the verdict.
 */
export async function checkBlobs(params: CheckBlobsParams): Promise<BlobResult[]> {
  const { checks, concurrency = 4, onProgress, onResult, signal } = params;
  const run: JudgeRun = {
    progress: { blobsDone: 0, blobsTotal: checks.length, bytesDone: 0, bytesTotal: checks.reduce((s, c) => s + c.size, 0), bad: 0 },
    byInode: new Map<string, Promise<string>>(),
    onProgress,
    signal,
  };
  return runPool({
    items: checks,
    concurrency,
    task: async (check) => {
      const judged = await judge(run, check);
      run.progress.blobsDone += 1;
      if (judged.verdict.status !== 'ok') run.progress.bad += 1;
      onProgress?.(run.progress);
      const result: BlobResult = { check, ...judged };
      await onResult?.(result);
      return result;
    },
  });
}

interface JudgeRun {
  progress: VerifyProgress;
  /** One hash per inode and kind: a second name of the same bytes waits for the first. */
  byInode: Map<string, Promise<string>>;
  onProgress?: (p: VerifyProgress) => void;
  signal?: AbortSignal;
}

type Judged = Omit<BlobResult, 'check'>;

/** The stat first (missing, not a file, wrong size, unchanged since recorded), then the hash. */
async function judge(run: JudgeRun, check: BlobCheck): Promise<Judged> {
  let st;
  try {
    st = await stat(check.path, { bigint: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { verdict: { status: 'missing' }, shared: false, bytesHashed: 0, unchanged: false };
    throw err;
  }
  if (!st.isFile()) return { verdict: { status: 'not-a-file' }, shared: false, bytesHashed: 0, unchanged: false };
  const fingerprint: BlobFingerprint = { size: Number(st.size), mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs, ino: st.ino, dev: st.dev };
  if (fingerprint.size !== check.size) return { verdict: { status: 'size-mismatch', actualSize: fingerprint.size }, shared: false, bytesHashed: 0, fingerprint, unchanged: false };
  if (check.recorded && sameFingerprint(fingerprint, check.recorded)) {
    run.progress.bytesDone += check.size;
    return { verdict: { status: 'ok' }, shared: false, bytesHashed: 0, fingerprint, unchanged: true };
  }
  const { digest, shared } = digestOf(run, check, `${st.dev}:${st.ino}:${check.kind}`);
  const hex = await digest;
  const verdict: BlobVerdict = hex === check.hex ? { status: 'ok' } : { status: 'hash-mismatch', actualHex: hex };
  return { verdict, shared, bytesHashed: shared ? 0 : check.size, fingerprint, unchanged: false };
}

function digestOf(run: JudgeRun, check: BlobCheck, key: string): { digest: Promise<string>; shared: boolean } {
  const known = run.byInode.get(key);
  if (known) {
    // A second name for bytes already read: count it as done without reading again.
    run.progress.bytesDone += check.size;
    return { digest: known, shared: true };
  }
  const digest = hashFile({
    path: check.path,
    kind: check.kind,
    signal: run.signal,
    onBytes: (n) => {
      run.progress.bytesDone += n;
      run.onProgress?.(run.progress);
    },
  }).then((r) => r.hex);
  run.byInode.set(key, digest);
  return { digest, shared: false };
}

// Verification per blob file: the stat of `blobs/<etag>` in one repo folder when hfhpc last
// knew its bytes to be right (the worker published a download it hashed, or verify hashed it).
// Verify compares a blob's stat against this record and re-hashes only what changed; the
// record belongs to the blob, not to a plan, so a re-plan does not cost a re-hash.
import type { Store } from './open-store.js';
import { stmt } from './statements.js';

/** What a blob file looked like when its bytes were last known good. */
export interface BlobFingerprint {
  size: number;
  /** Nanoseconds since the epoch (`stat(…, {bigint: true})`). */
  mtimeNs: bigint;
  ctimeNs: bigint;
  ino: bigint;
  dev: bigint;
}

export interface BlobVerification extends BlobFingerprint {
  repo: string;
  /** The etag: LFS sha256 or git blob sha1. */
  blob: string;
  /** Store clock (ms) when it was recorded. */
  verifiedAt: number;
  /** `placed`: a worker published bytes it had hashed; `verify`: `hfhpc verify` hashed them. */
  source: 'placed' | 'verify';
}

export interface NewBlobVerification extends BlobFingerprint {
  repo: string;
  blob: string;
  source: 'placed' | 'verify';
}

const UPSERT = `
INSERT INTO blob_verifications (repo, blob, size, mtime_ns, ctime_ns, ino, dev, verified_at, source)
VALUES (@repo, @blob, @size, @mtimeNs, @ctimeNs, @ino, @dev, @at, @source)
ON CONFLICT (repo, blob) DO UPDATE SET size = excluded.size, mtime_ns = excluded.mtime_ns, ctime_ns = excluded.ctime_ns,
  ino = excluded.ino, dev = excluded.dev, verified_at = excluded.verified_at, source = excluded.source`;

/**
 * Record blob files as verified with the stat they had (one transaction; inside a caller's
 * `store.write` it joins that transaction, so a fenced batch records all or nothing).
 */
export function recordBlobVerified(store: Store, records: readonly NewBlobVerification[]): void {
  if (records.length === 0) return;
  store.write((db) => {
    const at = store.now();
    const upsert = stmt(db, UPSERT);
    for (const r of records) {
      upsert.run({ repo: r.repo, blob: r.blob, size: r.size, mtimeNs: r.mtimeNs, ctimeNs: r.ctimeNs, ino: r.ino.toString(), dev: r.dev.toString(), at, source: r.source });
    }
  });
}

/** Forget blob files found bad (moved away or missing): nothing is trusted about them. */
export function forgetBlobVerified(store: Store, keys: readonly { repo: string; blob: string }[]): void {
  if (keys.length === 0) return;
  store.write((db) => {
    const del = stmt(db, 'DELETE FROM blob_verifications WHERE repo = ? AND blob = ?');
    for (const k of keys) del.run(k.repo, k.blob);
  });
}

interface RawVerification {
  repo: string;
  blob: string;
  size: bigint;
  mtime_ns: bigint;
  ctime_ns: bigint;
  ino: string;
  dev: string;
  verified_at: bigint;
  source: 'placed' | 'verify';
}

const OF_PLAN = `
SELECT v.repo, v.blob, v.size, v.mtime_ns, v.ctime_ns, v.ino, v.dev, v.verified_at, v.source
FROM blob_verifications v
WHERE EXISTS (SELECT 1 FROM files f JOIN datasets d ON d.id = f.dataset_id WHERE d.plan_id = ? AND d.repo = v.repo AND f.blob = v.blob)`;

/** Key of `blobVerificationsOfPlan`'s map. */
export const blobKey = (repo: string, blob: string): string => `${repo}\0${blob}`;

/** The records of every blob a plan names, by `blobKey(repo, blob)`. */
export function blobVerificationsOfPlan(store: Store, planId: number): Map<string, BlobVerification> {
  const rows = store.read((db) => {
    // Times in nanoseconds do not fit a double: read every integer as a BigInt. A statement
    // of its own (not the shared cache), since safeIntegers changes the statement.
    const s = db.prepare(OF_PLAN);
    s.safeIntegers(true);
    return s.all(planId) as RawVerification[];
  });
  return new Map(
    rows.map((r) => [
      blobKey(r.repo, r.blob),
      {
        repo: r.repo,
        blob: r.blob,
        size: Number(r.size),
        mtimeNs: r.mtime_ns,
        ctimeNs: r.ctime_ns,
        ino: BigInt(r.ino),
        dev: BigInt(r.dev),
        verifiedAt: Number(r.verified_at),
        source: r.source,
      },
    ]),
  );
}

/** Whether a blob file's stat now is the one recorded (same file, untouched since). */
export function sameFingerprint(a: BlobFingerprint, b: BlobFingerprint): boolean {
  return a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs && a.ino === b.ino && a.dev === b.dev;
}

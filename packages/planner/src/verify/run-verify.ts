import os from 'node:os';
import { CacheDirs, cacheLayout, getPlan, planSymlinkAllowance, repoFolderName, resetFile, StateError, UsageError, type Store } from '@hfhpc/core';
import { checkBlobs, type BlobCheck, type BlobResult, type BlobVerdict, type VerifyProgress } from './check-blobs.js';
import { checkSnapshotLink } from './check-link.js';
import { findUnplannedBlobs, type UnplannedBlob } from './unplanned-blobs.js';
import { quarantineBlob } from './quarantine.js';
import { recordVerified } from './verified-events.js';

export type VerifyProblem = 'missing' | 'not-a-file' | 'size-mismatch' | 'hash-mismatch' | 'broken-link';

export interface VerifyBadFile {
  repo: string;
  path: string;
  blob: string;
  problem: VerifyProblem;
  detail: string;
  /** Where the corrupt blob was moved, when it was. */
  quarantined_to: string | null;
}

export interface VerifyReport {
  plan_id: number;
  /** Files hashed (and their snapshot links checked) in this run. */
  files_checked: number;
  /** Distinct blob files behind them. */
  blobs_checked: number;
  bytes_checked: number;
  files_ok: number;
  /** Verified before and unchanged since (re-checked only with --force). */
  files_skipped: number;
  /** Not downloaded yet: nothing to verify. */
  files_not_done: number;
  /** Put back to pending: the next `hfhpc work` fetches or re-links them. */
  bad: VerifyBadFile[];
  /** Blob files in the datasets' folders that no file of the plan names (reported only). */
  unplanned_blobs: UnplannedBlob[];
}

export interface RunVerifyParams {
  store: Store;
  root: string;
  /** Default: the newest plan. */
  planId?: number;
  /** Only this dataset (repo id). Default: all of the plan's. */
  dataset?: string;
  /** Re-hash files already verified. Default false. */
  force?: boolean;
  /** Files hashed at once. Default: the number of CPUs (hashing is CPU-bound), at least 2. */
  concurrency?: number;
  onProgress?: (p: VerifyProgress) => void;
  signal?: AbortSignal;
}

interface FileRow {
  id: number;
  repo: string;
  commit_sha: string;
  path: string;
  size: number;
  oid: string;
  lfs_sha256: string | null;
  blob: string;
  state: string;
  updated_at: number | null;
  verified_at: number | null;
}

// Every file of the plan's (selected) datasets with the time it was last verified, if ever.
const FILES_SQL = `
SELECT f.id, d.repo, d.commit_sha, f.path, f.size, f.oid, f.lfs_sha256, f.blob, f.state, f.updated_at, v.verified_at
FROM files f JOIN datasets d ON d.id = f.dataset_id
LEFT JOIN (SELECT file_id, MAX(at) AS verified_at FROM events WHERE plan_id = ? AND kind = 'verified' GROUP BY file_id) v ON v.file_id = f.id
WHERE d.plan_id = ? AND (? IS NULL OR d.repo = ?)
ORDER BY d.repo, f.blob, f.path`;

/**
 * Re-hash the plan's done files on disk against the pinned hashes (sha256 for LFS, git blob
 * sha1 otherwise) and check their snapshot links. A bad blob is moved out of `blobs/` and every
 * file using it is put back to pending; a broken link puts its file back to pending (the worker
 * re-links a present blob without fetching it). Good files are recorded as verified.
 */
export async function runVerify(params: RunVerifyParams): Promise<VerifyReport> {
  const { store, root, force = false, onProgress, signal } = params;
  const concurrency = params.concurrency ?? Math.max(2, os.availableParallelism());
  const { planId, rows } = store.read((db) => {
    const plan = (params.planId === undefined
      ? db.prepare('SELECT id FROM plans ORDER BY id DESC LIMIT 1').get()
      : db.prepare('SELECT id FROM plans WHERE id = ?').get(params.planId)) as { id: number } | undefined;
    if (!plan) throw new StateError(`no plan in ${store.path}`, { hint: 'run `hfhpc plan --manifest <file>` first' });
    if (params.dataset !== undefined) {
      const repos = (db.prepare('SELECT repo FROM datasets WHERE plan_id = ? ORDER BY repo').all(plan.id) as { repo: string }[]).map((r) => r.repo);
      if (!repos.includes(params.dataset)) {
        throw new UsageError(`dataset ${params.dataset} is not in plan ${plan.id}`, { hint: `choose one of: ${repos.join(', ')}` });
      }
    }
    const ds = params.dataset ?? null;
    return { planId: plan.id, rows: db.prepare(FILES_SQL).all(plan.id, plan.id, ds, ds) as FileRow[] };
  });

  const done = rows.filter((r) => r.state === 'done');
  const toCheck = done.filter((r) => force || r.verified_at === null || (r.updated_at ?? 0) > r.verified_at);

  // One check per blob file (repo folder + etag): files sharing a blob are read once.
  const checks = new Map<string, BlobCheck & { files: FileRow[]; repo: string }>();
  for (const r of toCheck) {
    const blobPath = cacheLayout(root, r.repo).blobPath(r.blob);
    let c = checks.get(blobPath);
    if (!c) {
      c = { path: blobPath, kind: r.lfs_sha256 ? 'sha256' : 'git-sha1', hex: r.lfs_sha256 ?? r.oid, size: r.size, files: [], repo: r.repo };
      checks.set(blobPath, c);
    }
    c.files.push(r);
  }
  // Nothing is read or moved through a symlinked folder hfhpc did not make (the plan's opt-in aside).
  const dirs = new CacheDirs(root, { allowSymlinkedDirs: planSymlinkAllowance(getPlan(store, planId)?.options) });
  for (const repo of new Set(toCheck.map((r) => r.repo))) {
    const layout = cacheLayout(root, repo);
    await dirs.check(layout.blobsDir);
    await dirs.check(layout.snapshotsDir);
  }
  const byKey = new Map(toCheck.map((r) => [`${r.repo}\0${r.path}`, r.id]));
  const bad: VerifyBadFile[] = [];
  let good: number[] = [];
  let filesOk = 0;
  const flushGood = (): void => {
    recordVerified({ store, planId, fileIds: good });
    filesOk += good.length;
    good = [];
  };
  const markBad = (b: VerifyBadFile): void => {
    bad.push(b);
    resetFile(store, { fileId: byKey.get(`${b.repo}\0${b.path}`)!, reason: `verify: ${b.detail}` });
  };

  // Each blob is acted on as soon as it is judged, so an interrupted verify keeps what it did.
  const onResult = async ({ check, verdict }: BlobResult): Promise<void> => {
    const c = checks.get(check.path)!;
    if (verdict.status !== 'ok') {
      const quarantined = verdict.status === 'missing' ? null : await quarantineBlob({ root, blobPath: c.path, repoFolder: repoFolderName(c.repo), dirs });
      for (const f of c.files) markBad({ repo: f.repo, path: f.path, blob: f.blob, problem: verdict.status, detail: describe(verdict, c), quarantined_to: quarantined });
      return;
    }
    for (const f of c.files) {
      const layout = cacheLayout(root, f.repo);
      const linkPath = layout.snapshotPath(f.commit_sha, f.path);
      const problem = await checkSnapshotLink({ linkPath, blobPath: c.path });
      if (problem) markBad({ repo: f.repo, path: f.path, blob: f.blob, problem: 'broken-link', detail: `snapshot link ${problem}: ${linkPath}`, quarantined_to: null });
      else good.push(f.id);
    }
    if (good.length >= 2000) flushGood();
  };
  try {
    await checkBlobs({ checks: [...checks.values()], concurrency, onProgress, onResult, signal });
  } finally {
    flushGood();
  }

  const unplanned = await findUnplannedBlobs({ root, rows });
  return {
    plan_id: planId,
    files_checked: toCheck.length,
    blobs_checked: checks.size,
    bytes_checked: [...checks.values()].reduce((s, c) => s + c.size, 0),
    files_ok: filesOk,
    files_skipped: done.length - toCheck.length,
    files_not_done: rows.length - done.length,
    bad,
    unplanned_blobs: unplanned,
  };
}

function describe(v: BlobVerdict, c: BlobCheck): string {
  switch (v.status) {
    case 'missing':
      return `blob missing: ${c.path}`;
    case 'not-a-file':
      return `blob is not a regular file: ${c.path}`;
    case 'size-mismatch':
      return `blob has ${v.actualSize} bytes, the plan says ${c.size}`;
    case 'hash-mismatch':
      return `${c.kind === 'sha256' ? 'sha256' : 'git sha1'} is ${v.actualHex}, the plan says ${c.hex}`;
    default:
      return 'ok';
  }
}

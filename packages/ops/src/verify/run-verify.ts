import os from 'node:os';
import {
  blobKey,
  CacheDirs,
  blobVerificationsOfPlan,
  cacheLayout,
  forgetBlobVerified,
  resolvePlan,
  planFilesOf,
  planRepos,
  planSymlinkAllowance,
  recordBlobVerified,
  repoFolderName,
  resetFile,
  UsageError,
  type NewBlobVerification,
  type PlanFileRow,
  type Store,
} from '@hfhpc/core';
import { checkBlobs, type BlobCheck, type BlobResult, type BlobVerdict, type VerifyProgress } from './check-blobs.js';
import { checkSnapshotLink } from './check-snapshot-link.js';
import { findUnplannedBlobs, type UnplannedBlob } from './find-unplanned-blobs.js';
import { quarantineBlob } from './quarantine.js';

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
  /** Done files checked in this run: their blob's stat (hashed when changed) and their snapshot link. */
  files_checked: number;
  /** Distinct blob files behind them. */
  blobs_checked: number;
  /** Sum of those blobs' sizes. */
  bytes_checked: number;
  /** Blob files read and hashed in this run (changed since last verified, never verified, or --force). */
  blobs_hashed: number;
  /** Bytes read to hash them (a hard-linked blob is read once). */
  bytes_hashed: number;
  files_ok: number;
  /** Checked files whose blob was unchanged since it was last verified, so not re-hashed (--force re-hashes). */
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

/**
 * Check the plan's done files on disk: each blob's stat against the one recorded when its
 * bytes were last known good (placed by a worker or hashed by verify), re-hashing (sha256 for
 * LFS, git blob sha1 otherwise) every blob that changed, was never recorded, or all with
 * `force`; and every snapshot link. A bad blob is moved out of `blobs/` and every file using it
 * is put back to pending; a broken link puts its file back to pending (the worker re-links a
 * present blob without fetching it). Blobs hashed good are recorded with their stat.
 */
export async function runVerify(params: RunVerifyParams): Promise<VerifyReport> {
  const { store, root, force = false, onProgress, signal } = params;
  const concurrency = params.concurrency ?? Math.max(2, os.availableParallelism());
  const plan = resolvePlan(store, params.planId);
  const planId = plan.id;
  checkDataset(store, planId, params.dataset);
  const rows = planFilesOf(store, { planId, repo: params.dataset });
  const recorded = force ? new Map<string, BlobFingerprint>() : blobVerificationsOfPlan(store, planId);
  const done = rows.filter((r) => r.state === 'done');
  const checks = blobChecks(root, done, recorded);
  // Nothing is read or moved through a symlinked folder hfhpc did not make (the plan's opt-in aside).
  const dirs = new CacheDirs(root, { allowSymlinkedDirs: planSymlinkAllowance(plan.options) });
  for (const repo of new Set(done.map((r) => r.repo))) {
    const layout = cacheLayout(root, repo);
    await dirs.check(layout.blobsDir);
    await dirs.check(layout.snapshotsDir);
  }
  const tally = new VerifyTally(store, root, dirs, checks);
  try {
    await checkBlobs({ checks: [...checks.values()], concurrency, onProgress, onResult: (r) => tally.judge(r), signal });
  } finally {
    tally.flushGood();
  }
  const unplanned = await findUnplannedBlobs({ root, rows });
  return {
    plan_id: planId,
    files_checked: done.length,
    blobs_checked: checks.size,
    bytes_checked: [...checks.values()].reduce((s, c) => s + c.size, 0),
    blobs_hashed: tally.blobsHashed,
    bytes_hashed: tally.bytesHashed,
    files_ok: tally.filesOk,
    files_skipped: tally.filesSkipped,
    files_not_done: rows.length - done.length,
    bad: tally.bad,
    unplanned_blobs: unplanned,
  };
}

function checkDataset(store: Store, planId: number, dataset: string | undefined): void {
  if (dataset === undefined) return;
  const repos = planRepos(store, planId);
  if (!repos.includes(dataset)) {
    throw new UsageError(`dataset ${dataset} is not in plan ${planId}`, { hint: `choose one of: ${repos.join(', ')}` });
  }
}

type PlannedBlobCheck = BlobCheck & { files: PlanFileRow[]; repo: string; blob: string };
type BlobFingerprint = NonNullable<BlobCheck['recorded']>;

/** One check per blob file (repo folder + etag): files sharing a blob are read once. */
function blobChecks(root: string, done: PlanFileRow[], recorded: Map<string, BlobFingerprint>): Map<string, PlannedBlobCheck> {
  const checks = new Map<string, PlannedBlobCheck>();
  for (const r of done) {
    const blobPath = cacheLayout(root, r.repo).blobPath(r.blob);
    let c = checks.get(blobPath);
    if (!c) {
      c = {
        path: blobPath,
        kind: r.lfs_sha256 ? 'sha256' : 'git-sha1',
        hex: r.lfs_sha256 ?? r.oid,
        size: r.size,
        recorded: recorded.get(blobKey(r.repo, r.blob)),
        files: [],
        repo: r.repo,
        blob: r.blob,
      };
      checks.set(blobPath, c);
    }
    c.files.push(r);
  }
  return checks;
}

/** Acts on each blob as soon as it is judged, so an interrupted verify keeps what it did. */
class VerifyTally {
  readonly bad: VerifyBadFile[] = [];
  private good: NewBlobVerification[] = [];
  filesOk = 0;
  filesSkipped = 0;
  blobsHashed = 0;
  bytesHashed = 0;

  constructor(
    private readonly store: Store,
    private readonly root: string,
    private readonly dirs: CacheDirs,
    private readonly checks: Map<string, PlannedBlobCheck>,
  ) {}

  async judge(result: BlobResult): Promise<void> {
    const { check, verdict } = result;
    const c = this.checks.get(check.path)!;
    if (result.bytesHashed > 0) {
      this.blobsHashed++;
      this.bytesHashed += result.bytesHashed;
    }
    if (verdict.status !== 'ok') return this.badBlob(c, verdict);
    if (result.unchanged) this.filesSkipped += c.files.length;
    else this.good.push({ repo: c.repo, blob: c.blob, source: 'verify', ...result.fingerprint! });
    for (const f of c.files) {
      const linkPath = cacheLayout(this.root, f.repo).snapshotPath(f.commit_sha, f.path);
      const problem = await checkSnapshotLink({ linkPath, blobPath: c.path });
      if (problem) this.markBad(f, { problem: 'broken-link', detail: `snapshot link ${problem}: ${linkPath}`, quarantined_to: null });
      else this.filesOk++;
    }
    if (this.good.length >= 500) this.flushGood();
  }

  flushGood(): void {
    recordBlobVerified(this.store, this.good);
    this.good = [];
  }

  private async badBlob(c: PlannedBlobCheck, verdict: Exclude<BlobVerdict, { status: 'ok' }>): Promise<void> {
    forgetBlobVerified(this.store, [{ repo: c.repo, blob: c.blob }]);
    const quarantined = verdict.status === 'missing' ? null : await quarantineBlob({ root: this.root, blobPath: c.path, repoFolder: repoFolderName(c.repo), dirs: this.dirs });
    for (const f of c.files) this.markBad(f, { problem: verdict.status, detail: describe(verdict, c), quarantined_to: quarantined });
  }

  private markBad(f: PlanFileRow, b: Omit<VerifyBadFile, 'repo' | 'path' | 'blob'>): void {
    this.bad.push({ repo: f.repo, path: f.path, blob: f.blob, ...b });
    resetFile(this.store, { fileId: f.id, reason: `verify: ${b.detail}` });
  }
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

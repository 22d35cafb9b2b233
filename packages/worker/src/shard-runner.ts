import { mkdir, rm, stat } from 'node:fs/promises';
import {
  AuthError,
  HfhpcError,
  HubError,
  LeaseLostError,
  StaleFenceError,
  UnsafePathError,
  cacheLayout,
  repoPathProblem,
  fileStatesByBlob,
  type BlobExpectation,
  type CacheLayout,
  type Claim,
  type Logger,
  type ShardFile,
  type Store,
} from '@hfhpc/core';
import type { DownloadFn } from './download-fn.js';
import { toDiskError } from './disk-error.js';
import { existingBlobProblem, keepExistingBlob } from './existing-blob.js';
import type { DoneRecorder } from './done-recorder.js';
import { placeSnapshotLink } from './place-file.js';
import type { ProgressMeter } from './progress-meter.js';
import { resolveUrl } from './resolve-url.js';
import { findBlobElsewhere, listRepoDirs, reuseBlob } from './reuse-blob.js';
import { runPool } from './run-pool.js';
import type { RequestGate } from './throttle-gate.js';

/** Where per-file byte counts go between flushes (core's ProgressBatcher). */
export interface ProgressSink {
  update(fileId: number, bytesDone: number): void;
  /** The file was marked done or failed: drop its unwritten count. */
  forget(fileId: number): void;
}

export interface RunShardParams {
  store: Store;
  claim: Claim;
  files: ShardFile[];
  /** Cache root (absolute). */
  root: string;
  hubUrl: string;
  token?: string;
  /** Blobs fetched at once. */
  concurrency: number;
  download: DownloadFn;
  gate: RequestGate;
  meter: ProgressMeter;
  progress: ProgressSink;
  /** Finished and failed files; written in batches. */
  done: Pick<DoneRecorder, 'done' | 'failed'>;
  /** Aborted on a stop signal (reason InterruptedError) or a lost lease (LeaseLostError). */
  signal: AbortSignal;
  log: Logger;
  /** Re-hash blobs already at their final path even when recorded done (`plan --force`). */
  recheckBlobs?: boolean;
}

export interface ShardFailure {
  repo: string;
  path: string;
  error: string;
}

export interface RunShardResult {
  filesDone: number;
  failures: ShardFailure[];
}

/** Files with the same blob are one download; the others get a link (or the same blob). */
interface BlobGroup {
  blob: string;
  size: number;
  expected: BlobExpectation;
  files: ShardFile[];
}

function groupByBlob(files: ShardFile[]): BlobGroup[] {
  const groups = new Map<string, BlobGroup>();
  for (const f of files) {
    let g = groups.get(f.blob);
    if (!g) {
      g = { blob: f.blob, size: f.size, expected: f.lfsSha256 ? { size: f.size, sha256: f.lfsSha256 } : { size: f.size, gitSha1: f.oid }, files: [] };
      groups.set(f.blob, g);
    }
    g.files.push(f);
  }
  // Largest first: the long transfers start early and the shard's tail is short files.
  return [...groups.values()].sort((a, b) => b.size - a.size);
}

async function sizeOf(path: string): Promise<number | undefined> {
  const st = await stat(path).catch(() => undefined);
  return st?.isFile() ? st.size : undefined;
}

/** Errors that concern the whole repo: every other file of it would fail the same way. */
function isRepoWide(err: unknown): boolean {
  if (err instanceof AuthError) return true;
  return err instanceof HubError && (err.hubErrorCode === 'RepoNotFound' || err.hubErrorCode === 'RevisionNotFound');
}

function reason(err: unknown): string {
  return err instanceof HfhpcError ? err.toUserString() : err instanceof Error ? err.message : String(err);
}

/**
 * Work through one leased shard: fetch each missing blob once (or reuse it from another repo
 * folder), place every file's snapshot link, record each file done or failed. A file that
 * fails is recorded with its reason and the shard goes on. Stops early, rethrowing, on a stop
 * signal or a lost lease (the signal's reason), and on a DiskError (the task cannot go on).
 */
export async function runShard(params: RunShardParams): Promise<RunShardResult> {
  const { store, claim, files, root, meter, log } = params;
  // One failure that stops the shard (disk, lease, bug) aborts the other downloads at once.
  const local = new AbortController();
  const signal = local.signal;
  const onAbort = (): void => local.abort(params.signal.reason);
  if (params.signal.aborted) onAbort();
  else params.signal.addEventListener('abort', onAbort, { once: true });
  const layouts = new Map<string, CacheLayout>();
  const layoutFor = (repo: string): CacheLayout => {
    let l = layouts.get(repo);
    if (!l) layouts.set(repo, (l = cacheLayout(root, repo)));
    return l;
  };
  const repoDirs = await listRepoDirs(root);
  // Folders this run made, and snapshot folders it made and checked: not again for every file.
  const madeDirs = new Set<string>();
  const checkedDirs = new Set<string>();
  const ensureDir = async (dir: string): Promise<void> => {
    if (madeDirs.has(dir)) return;
    await mkdir(dir, { recursive: true });
    madeDirs.add(dir);
  };
  const failures: ShardFailure[] = [];
  const repoFailure = new Map<string, string>();
  let filesDone = 0;

  // A file recorded done whose blob is still there costs nothing, not even a link check
  // beyond what placing does; one whose blob vanished is fetched again.
  const todo = new Set<ShardFile>();
  let doneBytes = 0;
  let doneCount = 0;
  for (const f of files) {
    if (f.state === 'done' && (await sizeOf(layoutFor(f.repo).blobPath(f.blob))) === f.size) {
      doneBytes += f.size;
      doneCount++;
    } else {
      todo.add(f);
    }
  }
  meter.addShard({ index: claim.index, files: files.length, bytes: files.reduce((s, f) => s + f.size, 0), filesDone: doneCount, bytesDone: doneBytes });
  filesDone += doneCount;

  const fail = (f: ShardFile, err: unknown): void => {
    const error = reason(err);
    params.progress.forget(f.id);
    params.done.failed(f.id, error);
    failures.push({ repo: f.repo, path: f.path, error });
    meter.fileFailed();
    log.warn(`failed ${f.repo}/${f.path}: ${error}`);
  };

  const stopIfAborted = (): void => {
    if (signal.aborted) throw signal.reason;
  };

  // A blob already on disk is used without reading it only when hfhpc verified it before
  // (recorded done in some plan) and `plan --force` did not ask for every blob to be rechecked.
  // Asked only when a blob is found on disk (a fresh download never queries it).
  const trustCache = new Map<string, boolean>();
  const trustedOnDisk = async (g: BlobGroup): Promise<boolean> => {
    let t = trustCache.get(g.blob);
    if (t === undefined) {
      t = !params.recheckBlobs && ((await store.readAsync(() => fileStatesByBlob(store, [g.blob]))).get(g.blob)?.done ?? false);
      trustCache.set(g.blob, t);
    }
    return t;
  };

  /** A usable blob already at `path`; a wrong one (size, or hash where checked) is removed. */
  const usableAt = async (path: string, g: BlobGroup): Promise<boolean> => {
    const have = await sizeOf(path);
    if (have === undefined) return false;
    if (have === g.size) return keepExistingBlob({ path, expected: g.expected, trusted: await trustedOnDisk(g), signal, log });
    // hfhpc renames only verified blobs into place; a wrong size means someone else wrote it.
    log.warn(`removing ${path}: ${have} bytes, the plan says ${g.size}`);
    await rm(path, { force: true });
    return false;
  };

  const fetchPrimary = async (g: BlobGroup, layout: CacheLayout, primary: ShardFile): Promise<string> => {
    const finalPath = layout.blobPath(g.blob);
    if (await usableAt(finalPath, g)) return finalPath;
    await ensureDir(layout.blobsDir);
    const elsewhere = await findBlobElsewhere({ root, blob: g.blob, size: g.size, exceptRepoDir: layout.repoDir, repoDirs });
    const elsewhereProblem = elsewhere && (await existingBlobProblem({ path: elsewhere, expected: g.expected, trusted: await trustedOnDisk(g), signal }));
    if (elsewhereProblem) log.warn(`not reusing ${elsewhere}: ${elsewhereProblem} (hfhpc verify on its dataset puts it right)`);
    if (elsewhere && !elsewhereProblem) {
      const how = await reuseBlob({ source: elsewhere, target: finalPath, expected: g.expected, signal });
      log.debug(`${how} ${finalPath} from ${elsewhere}`);
      meter.addBytes(g.size, 0);
      return finalPath;
    }
    // Bytes already in a partial file are not network bytes: the first report starts there.
    let last = (await sizeOf(layout.incompletePath(g.blob))) ?? 0;
    if (last > g.size) last = 0;
    meter.addBytes(last, 0);
    stopIfAborted();
    await params.download({
      url: resolveUrl({ hubUrl: params.hubUrl, repo: primary.repo, commit: primary.commitSha, path: primary.path }),
      hubOrigin: new URL(params.hubUrl).origin,
      hubUrl: params.hubUrl,
      token: params.token,
      partialPath: layout.incompletePath(g.blob),
      finalPath,
      expected: g.expected,
      signal,
      gate: params.gate,
      repo: primary.repo,
      path: primary.path,
      revision: primary.revision,
      log,
      onProgress: (bytes) => {
        // A restart from zero (hash mismatch) moves backwards; count only forward motion.
        if (bytes > last) meter.addBytes(bytes - last, bytes - last);
        last = Math.max(last, bytes);
        params.progress.update(primary.id, bytes);
      },
    });
    if (last < g.size) meter.addBytes(g.size - last, 0);
    return finalPath;
  };

  const work = async (g: BlobGroup): Promise<void> => {
    stopIfAborted();
    const needs = g.files.filter((f) => todo.has(f));
    if (needs.length === 0) return;
    const live: ShardFile[] = [];
    for (const f of needs) {
      // A path that would leave its snapshot folder is refused before any request is made.
      const unsafe = repoPathProblem(f.path);
      if (unsafe) fail(f, new UnsafePathError(`unsafe path ${JSON.stringify(f.path)} in ${f.repo}: ${unsafe}`, { hint: 'exclude it in the manifest; hfhpc never writes outside its root' }));
      else if (repoFailure.has(f.repo)) fail(f, new Error(repoFailure.get(f.repo)));
      else live.push(f);
    }
    if (live.length === 0) return;
    const primary = live[0];
    let source: string;
    try {
      source = await fetchPrimary(g, layoutFor(primary.repo), primary);
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      const disk = toDiskError(err, { path: layoutFor(primary.repo).incompletePath(g.blob), bytesNeeded: g.size });
      if (disk) throw disk;
      if (err instanceof LeaseLostError || err instanceof StaleFenceError) throw err;
      if (isRepoWide(err)) repoFailure.set(primary.repo, reason(err));
      for (const f of live) fail(f, err);
      return;
    }
    for (const f of live) {
      stopIfAborted();
      const layout = layoutFor(f.repo);
      try {
        const blobPath = layout.blobPath(g.blob);
        if (blobPath !== source && !(await usableAt(blobPath, g))) {
          await ensureDir(layout.blobsDir);
          await reuseBlob({ source, target: blobPath, expected: g.expected, signal });
        }
        await placeSnapshotLink({ layout, repo: f.repo, commit: f.commitSha, path: f.path, blob: g.blob, checkedDirs });
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        const disk = toDiskError(err, { path: layout.snapshotPath(f.commitSha, f.path), bytesNeeded: g.size });
        if (disk) throw disk;
        if (err instanceof UnsafePathError) {
          fail(f, err);
          continue;
        }
        throw err;
      }
      params.progress.forget(f.id);
      params.done.done(f.id, f.size);
      meter.fileDone();
      filesDone++;
    }
  };

  try {
    await runPool({
      items: groupByBlob([...todo]),
      concurrency: params.concurrency,
      signal,
      work: async (g) => {
        try {
          await work(g);
        } catch (err) {
          local.abort(err);
          throw err;
        }
      },
    });
  } finally {
    params.signal.removeEventListener('abort', onAbort);
  }
  stopIfAborted();
  return { filesDone, failures };
}

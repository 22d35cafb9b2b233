import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { lstat, opendir, rm } from 'node:fs/promises';
import {
  AuthError,
  CacheDirs,
  HfhpcError,
  HubError,
  LeaseLostError,
  StaleFenceError,
  UnsafeCacheError,
  UnsafePathError,
  cacheLayout,
  lstatOwnFile,
  repoPathProblem,
  fileStatesByBlob,
  parsePartialName,
  partialTag,
  type BlobExpectation,
  type CacheLayout,
  type Claim,
  type Logger,
  type ShardFile,
  type Store,
} from '@hfhpc/core';
import type { DownloadFn } from './download-fn.js';
import type { DownloadLease } from './download/index.js';
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
  /** Finished and failed files (and the stat of blobs this run downloaded and hashed); written in batches. */
  done: Pick<DoneRecorder, 'done' | 'failed'> & Partial<Pick<DoneRecorder, 'blobVerified'>>;
  /** Aborted on a stop signal (reason InterruptedError) or a lost lease (LeaseLostError). */
  signal: AbortSignal;
  log: Logger;
  /** Re-hash blobs already at their final path even when recorded done (`plan --force`). */
  recheckBlobs?: boolean;
  /** The claim's lease as the download engine checks it (before every write batch and before publishing). */
  lease?: DownloadLease;
  /**
   * The root's folder checker for this shard run (the plan's allow_symlinked_dirs): every cache
   * folder is made or checked once, and a symlink hfhpc did not make stops the shard. Default:
   * a new, strict one.
   */
  dirs?: CacheDirs;
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

/**
 * The size of a regular file hfhpc owns (a blob, a partial), or undefined. Never follows a link:
 * a symlink there is an UnsafeCacheError (nothing is read or written through it).
 */
async function sizeOf(path: string): Promise<number | undefined> {
  const st = await lstatOwnFile(path).catch((err: unknown) => {
    if (err instanceof UnsafeCacheError) throw err;
    return undefined;
  });
  return st?.isFile() ? st.size : undefined;
}

/**
 * The partial files in a blobs folder by the blob they become (every claim's, and the legacy
 * name). Streamed: only partial names are kept, however many blobs the folder holds.
 */
async function listPartials(layout: CacheLayout): Promise<Map<string, string[]>> {
  const byBlob = new Map<string, string[]>();
  const dir = await opendir(layout.blobsDir).catch(() => undefined);
  if (!dir) return byBlob;
  for await (const entry of dir) {
    const name = entry.name;
    if (!name.endsWith('.incomplete')) continue;
    const p = parsePartialName(name);
    if (!p) continue;
    let list = byBlob.get(p.blob);
    if (!list) byBlob.set(p.blob, (list = []));
    list.push(join(layout.blobsDir, name));
  }
  return byBlob;
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
  // Folders this run made or checked (no planted link on the way): not again for every file.
  const dirs = params.dirs ?? new CacheDirs(root);
  const ensureDir = (dir: string): Promise<void> => dirs.ensure(dir);
  // Before anything under a repo's blobs/ is looked at, its folders are checked (a planted link
  // stops the shard here): once per repo, whatever the number of files.
  for (const repo of new Set(files.map((f) => f.repo))) await dirs.check(layoutFor(repo).blobsDir);
  const failures: ShardFailure[] = [];
  const repoFailure = new Map<string, string>();
  // This claim's partial files: a name (and so an inode) no other claim writes.
  const tag = partialTag(claim, randomBytes(4).toString('hex'));
  // Partials an earlier claim may have left (killed, frozen, released): only a re-claim, a
  // shard with recorded progress, or a re-plan (an earlier plan's tasks) can have any; then
  // each blobs folder is scanned once for this claim.
  const mayResume = claim.fence > 1 || claim.planId > 1 || files.some((f) => f.state !== 'done' && f.bytesDone > 0);
  const earlierPartials = new Map<string, Promise<Map<string, string[]>>>();
  const partialsOf = async (layout: CacheLayout, blob: string): Promise<string[]> => {
    if (!mayResume) return [];
    let listing = earlierPartials.get(layout.blobsDir);
    if (!listing) earlierPartials.set(layout.blobsDir, (listing = listPartials(layout)));
    return (await listing).get(blob) ?? [];
  };
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

  /** The blob's path, and whether this run downloaded (so hashed) its bytes. */
  const fetchPrimary = async (g: BlobGroup, layout: CacheLayout, primary: ShardFile): Promise<{ path: string; downloaded: boolean }> => {
    const finalPath = layout.blobPath(g.blob);
    if (await usableAt(finalPath, g)) {
      // In place already (a re-plan after the commit moved): done bytes, though not fetched.
      meter.addBytes(g.size, 0);
      return { path: finalPath, downloaded: false };
    }
    await ensureDir(layout.blobsDir);
    const elsewhere = await findBlobElsewhere({ root, blob: g.blob, size: g.size, exceptRepoDir: layout.repoDir, repoDirs, dirs });
    const elsewhereProblem = elsewhere && (await existingBlobProblem({ path: elsewhere, expected: g.expected, trusted: await trustedOnDisk(g), signal }));
    if (elsewhereProblem) log.warn(`not reusing ${elsewhere}: ${elsewhereProblem} (hfhpc verify on its dataset puts it right)`);
    if (elsewhere && !elsewhereProblem) {
      const how = await reuseBlob({ source: elsewhere, target: finalPath, expected: g.expected, signal });
      log.debug(`${how} ${finalPath} from ${elsewhere}`);
      meter.addBytes(g.size, 0);
      return { path: finalPath, downloaded: false };
    }
    // Bytes already in a partial file are not network bytes: the first report starts there.
    // sizeOf lstats each name (lstatOwnFile): a symlink planted at a partial's name stops the
    // shard here (UnsafeCacheError) instead of being read through.
    const resumeFrom = await partialsOf(layout, g.blob);
    let last = 0;
    for (const p of resumeFrom) {
      const n = (await sizeOf(p)) ?? 0;
      if (n <= g.size) last = Math.max(last, n);
    }
    meter.addBytes(last, 0);
    stopIfAborted();
    await params.download({
      url: resolveUrl({ hubUrl: params.hubUrl, repo: primary.repo, commit: primary.commitSha, path: primary.path }),
      hubOrigin: new URL(params.hubUrl).origin,
      hubUrl: params.hubUrl,
      token: params.token,
      partialPath: layout.incompletePath(g.blob, tag),
      resumeFrom,
      lease: params.lease,
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
    return { path: finalPath, downloaded: true };
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
    let downloaded: boolean;
    try {
      ({ path: source, downloaded } = await fetchPrimary(g, layoutFor(primary.repo), primary));
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      if (err instanceof UnsafeCacheError) throw err; // a planted link: the task stops, nothing written through it
      const disk = toDiskError(err, { path: layoutFor(primary.repo).incompletePath(g.blob, tag), bytesNeeded: g.size });
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
        await placeSnapshotLink({ layout, repo: f.repo, commit: f.commitSha, path: f.path, blob: g.blob, dirs });
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        if (err instanceof UnsafeCacheError) throw err;
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
      // The primary's bytes were counted as they came; each other path of the blob adds its own.
      if (f !== primary) meter.addBytes(f.size, 0);
      meter.fileDone();
      filesDone++;
    }
    // Bytes this run hashed on the way in: their stat (taken after every link to them was
    // made, which changes ctime) lets `hfhpc verify` skip them until they change.
    if (downloaded && params.done.blobVerified) {
      for (const repo of new Set(live.map((f) => f.repo))) {
        const st = await lstat(layoutFor(repo).blobPath(g.blob), { bigint: true }).catch(() => undefined);
        if (st?.isFile() && Number(st.size) === g.size) {
          params.done.blobVerified({ repo, blob: g.blob, source: 'placed', size: g.size, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs, ino: st.ino, dev: st.dev });
        }
      }
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

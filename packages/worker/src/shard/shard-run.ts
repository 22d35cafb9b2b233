import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { CacheDirs, cacheLayout, fileStatesByBlob, partialTag, shardHasRecordedBytes, type CacheLayout, type ShardFile } from '@hfhpc/core';
import { keepExistingBlob } from '../existing-blob.js';
import { listRepoDirs } from '../reuse-blob.js';
import type { BlobGroup } from './blob-group.js';
import { reason } from './failure.js';
import { listPartials, sizeOf } from './own-files.js';
import type { RunShardParams, ShardFailure } from './types.js';

/** One shard run's shared state: what every blob group reads (layouts, caches) and adds to (results). */
export class ShardRun {
  readonly failures: ShardFailure[] = [];
  /** A repo-wide failure's reason by repo: its other files fail with it, unrequested. */
  readonly repoFailure = new Map<string, string>();
  /** Files read and still to fetch or place (not recorded done with their blob in place): the pages in memory. */
  readonly todo = new Set<ShardFile>();
  filesDone = 0;
  /** This claim's partial files: a name (and so an inode) no other claim writes. */
  readonly tag: string;
  private readonly layouts = new Map<string, CacheLayout>();
  private readonly earlierPartials = new Map<string, Promise<Map<string, string[]>>>();
  private readonly trustCache = new Map<string, boolean>();
  private readonly mayResume: boolean;

  constructor(
    readonly params: RunShardParams,
    /** Aborted by the caller's signal or by the first failure that stops the shard. */
    readonly signal: AbortSignal,
    /** Folders this run made or checked (no planted link on the way): not again for every file. */
    readonly dirs: CacheDirs,
    readonly repoDirs: string[],
    /** An earlier claim may have left partial files (see openShardRun). */
    mayResume: boolean,
  ) {
    this.tag = partialTag(params.claim, randomBytes(4).toString('hex'));
    this.mayResume = mayResume;
  }

  layoutFor(repo: string): CacheLayout {
    let l = this.layouts.get(repo);
    if (!l) this.layouts.set(repo, (l = cacheLayout(this.params.root, repo)));
    return l;
  }

  ensureDir(dir: string): Promise<void> {
    return this.dirs.ensure(dir);
  }

  stopIfAborted(): void {
    if (this.signal.aborted) throw this.signal.reason;
  }

  /** Partial files an earlier claim left for this blob. */
  async partialsOf(layout: CacheLayout, blob: string): Promise<string[]> {
    if (!this.mayResume) return [];
    let listing = this.earlierPartials.get(layout.blobsDir);
    if (!listing) this.earlierPartials.set(layout.blobsDir, (listing = listPartials(layout)));
    return (await listing).get(blob) ?? [];
  }

  /**
   * A blob already on disk is used without reading it only when hfhpc verified it before
   * (recorded done in some plan) and `plan --force` did not ask for every blob to be rechecked.
   * Asked only when a blob is found on disk (a fresh download never queries it).
   */
  async trustedOnDisk(g: BlobGroup): Promise<boolean> {
    let t = this.trustCache.get(g.blob);
    if (t === undefined) {
      const { store, recheckBlobs } = this.params;
      t = !recheckBlobs && ((await store.readAsync(() => fileStatesByBlob(store, [g.blob]))).get(g.blob)?.done ?? false);
      this.trustCache.set(g.blob, t);
    }
    return t;
  }

  /** The group is finished: what was cached about its blob is dropped (memory follows what is in flight). */
  forgetGroup(g: BlobGroup): void {
    this.trustCache.delete(g.blob);
  }

  /** A usable blob already at `path`; a wrong one (size, or hash where checked) is removed. */
  async usableAt(path: string, g: BlobGroup): Promise<boolean> {
    const have = await sizeOf(path);
    if (have === undefined) return false;
    const { signal, params } = this;
    if (have === g.size) return keepExistingBlob({ path, expected: g.expected, trusted: await this.trustedOnDisk(g), signal, log: params.log });
    // hfhpc renames only verified blobs into place; a wrong size means someone else wrote it.
    params.log.warn(`removing ${path}: ${have} bytes, the plan says ${g.size}`);
    await rm(path, { force: true });
    return false;
  }

  /** Record a file failed with its reason; the shard goes on. */
  fail(f: ShardFile, err: unknown): void {
    const error = reason(err);
    this.params.progress.forget(f.id);
    this.params.done.failed(f.id, error);
    this.failures.push({ repo: f.repo, path: f.path, error });
    this.params.meter.fileFailed();
    this.params.log.warn(`failed ${f.repo}/${f.path}: ${error}`);
  }

  /**
   * Record a file placed and done. The blob's first path had its bytes counted as they came;
   * each other path adds its own (`countBytes`).
   */
  placed(f: ShardFile, countBytes: boolean): void {
    this.params.progress.forget(f.id);
    this.params.done.done(f.id, f.size);
    if (countBytes) this.params.meter.addBytes(f.size, 0);
    this.params.meter.fileDone();
    this.filesDone++;
  }
}

/**
 * The run's state. Each repo's blobs folder is checked for a planted link as its first files
 * are read (ShardPages), before anything under it is looked at.
 */
export async function openShardRun(params: RunShardParams, signal: AbortSignal): Promise<ShardRun> {
  const { store, claim } = params;
  const repoDirs = await listRepoDirs(params.root);
  // Partials an earlier claim may have left (killed, frozen, released): only a re-claim, a
  // shard with recorded progress, or a re-plan (an earlier plan's tasks) can have any; then
  // each blobs folder is scanned once for this claim.
  const mayResume = claim.fence > 1 || claim.planId > 1 || (await store.readAsync(() => shardHasRecordedBytes(store, claim.shardId)));
  return new ShardRun(params, signal, params.dirs ?? new CacheDirs(params.root), repoDirs, mayResume);
}

import { shardFilesPage, type ShardFile, type ShardFilesCursor } from '@hfhpc/core';
import { deferred, type Deferred } from '../deferred.js';
import type { ConnectionBudget } from '../download/connection-budget.js';
import { groupByBlob, type BlobGroup } from './blob-group.js';
import { sizeOf } from './own-files.js';
import type { ShardRun } from './shard-run.js';

/** Files read from the database per page. */
export const DEFAULT_PAGE_SIZE = 1000;

export interface ShardPagesParams {
  run: ShardRun;
  /** Files per page (a page grows past it only to keep a blob's files together). */
  pageSize?: number;
  /** Read the next page when fewer files than this wait to start. Default max(4 × concurrency, pageSize / 4). */
  lowWater?: number;
  /** Called with each page's files before any of them is looked at on disk (the repos' metadata). */
  onPage?: (files: readonly ShardFile[]) => Promise<void>;
  /** The task's connections: a group in flight holds one. */
  connections?: ConnectionBudget;
}

/**
 * The shard's blob groups, read from the database a page at a time as the pool drains them:
 * the worker holds the groups waiting (fewer than the low-water mark when a page is asked
 * for, plus that page) and those in flight, never the whole shard. Each page is read through
 * `store.readAsync` (no synchronous lock wait); files recorded done whose blob is still in
 * place are set aside as the page arrives.
 */
export class ShardPages {
  private readonly run: ShardRun;
  private readonly pageSize: number;
  private readonly lowWater: number;
  private readonly onPage?: (files: readonly ShardFile[]) => Promise<void>;
  private readonly connections?: ConnectionBudget;
  private waiting: BlobGroup[] = [];
  private waitingFiles = 0;
  private inFlightFiles = 0;
  private cursor: ShardFilesCursor | undefined;
  private exhausted = false;
  private reading: Promise<void> | undefined;
  private failure: { err: unknown } | undefined;
  private readonly checkedRepos = new Set<string>();
  /** Blobs with a group in flight: a blob read in chunks (more paths than a page) runs one chunk at a time. */
  private readonly busyBlobs = new Set<string>();
  private released: Deferred | undefined;
  /** Most files held at once (waiting plus in flight): what memory is bounded by. */
  maxFilesHeld = 0;
  /** Pages read so far. */
  pages = 0;

  constructor(p: ShardPagesParams) {
    this.run = p.run;
    this.pageSize = Math.max(1, p.pageSize ?? DEFAULT_PAGE_SIZE);
    this.lowWater = p.lowWater ?? Math.max(4 * p.run.params.concurrency, Math.floor(this.pageSize / 4));
    this.onPage = p.onPage;
    this.connections = p.connections;
  }

  /** The next group to work on, or undefined when the shard has no more. Safe to call from several runners at once. */
  async next(): Promise<BlobGroup | undefined> {
    for (;;) {
      if (this.failure) throw this.failure.err;
      if (this.waitingFiles < this.lowWater && !this.exhausted && !this.reading) {
        this.reading = this.readPage()
          .catch((err: unknown) => {
            this.failure ??= { err };
          })
          .finally(() => (this.reading = undefined));
      }
      const g = this.takeWaiting();
      if (g) return g;
      if (this.waiting.length) {
        // Every waiting group is a later chunk of a blob still in flight: the earlier chunk
        // fetches the blob, the later ones find it in place.
        await Promise.race([this.releaseSignal(), this.reading ?? new Promise<void>(() => undefined)]);
        continue;
      }
      if (!this.reading) return undefined;
      await this.reading;
    }
  }

  /** Resolves at the next `release`. */
  private releaseSignal(): Promise<void> {
    this.released ??= deferred();
    return this.released.promise;
  }

  private takeWaiting(): BlobGroup | undefined {
    const i = this.waiting.findIndex((w) => !this.busyBlobs.has(w.blob));
    if (i < 0) return undefined;
    const [g] = i === 0 ? [this.waiting.shift()!] : this.waiting.splice(i, 1);
    this.busyBlobs.add(g.blob);
    this.connections?.hold();
    this.waitingFiles -= g.files.length;
    this.inFlightFiles += g.files.length;
    return g;
  }

  /** The group is finished (placed, failed or stopped): its files are no longer held. */
  release(g: BlobGroup): void {
    this.busyBlobs.delete(g.blob);
    this.connections?.give();
    this.released?.resolve();
    this.released = undefined;
    this.inFlightFiles -= g.files.length;
    for (const f of g.files) this.run.todo.delete(f);
    this.run.forgetGroup(g);
  }

  private async readPage(): Promise<void> {
    const { store, claim } = this.run.params;
    const after = this.cursor;
    const page = await store.readAsync(() => shardFilesPage(store, { shardId: claim.shardId, after, limit: this.pageSize }));
    this.pages++;
    this.cursor = page.next;
    if (!page.next) this.exhausted = true;
    if (page.files.length === 0) return;
    await this.onPage?.(page.files);
    await this.checkRepos(page.files);
    const todo = await this.setAsideDone(page.files);
    for (const g of groupByBlob(todo)) {
      this.waiting.push(g);
      this.waitingFiles += g.files.length;
    }
    this.maxFilesHeld = Math.max(this.maxFilesHeld, this.waitingFiles + this.inFlightFiles);
  }

  /** Before anything under a repo's blobs/ is looked at, a planted link stops the shard here, once per repo. */
  private async checkRepos(files: readonly ShardFile[]): Promise<void> {
    for (const f of files) {
      if (this.checkedRepos.has(f.repo)) continue;
      this.checkedRepos.add(f.repo);
      await this.run.dirs.check(this.run.layoutFor(f.repo).blobsDir);
    }
  }

  /**
   * A file recorded done whose blob is still there costs nothing, not even a link check beyond
   * what placing does; one whose blob vanished is fetched again. The others are the page's work.
   */
  private async setAsideDone(files: readonly ShardFile[]): Promise<ShardFile[]> {
    const { run } = this;
    const { meter } = run.params;
    const todo: ShardFile[] = [];
    for (const f of files) {
      if (f.state === 'done' && (await sizeOf(run.layoutFor(f.repo).blobPath(f.blob))) === f.size) {
        meter.addBytes(f.size, 0);
        meter.fileDone();
        run.filesDone++;
      } else {
        run.todo.add(f);
        todo.push(f);
      }
    }
    return todo;
  }
}

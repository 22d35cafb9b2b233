// A real state database holding a plan whose files have real contents and hashes, for tests
// of the shard runner and the worker loop without a network.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { claimShard, createPlan, openStore, type Claim, type NewPlanFile, type Store } from '@hfhpc/core';
import type { DownloadFn, DownloadRequest } from '../../src/download-fn.js';

export interface FixtureFile {
  repo: string;
  path: string;
  content: Buffer;
  lfs?: boolean;
  shard?: number;
  state?: 'pending' | 'done';
}

export const gitSha1 = (b: Buffer): string => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');
export const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
export const commitOf = (repo: string): string => createHash('sha1').update(repo).digest('hex');

export function blobOf(f: FixtureFile): string {
  return f.lfs ? sha256(f.content) : gitSha1(f.content);
}

export interface PlanFixture {
  dir: string;
  root: string;
  dbPath: string;
  store: Store;
  planId: number;
  cleanup(): void;
}

export function planFixture(files: FixtureFile[], opts: { shards?: number; hubUrl?: string } = {}): PlanFixture {
  const dir = mkdtempSync(join(tmpdir(), 'hfhpc-worker-'));
  const root = join(dir, 'root');
  const dbPath = join(root, '_hfhpc', 'state.sqlite');
  const store = openStore({ path: dbPath });
  const repos = [...new Set(files.map((f) => f.repo))];
  const shardCount = opts.shards ?? 1;
  const planFiles: NewPlanFile[] = files.map((f) => {
    const oid = f.lfs ? gitSha1(Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${sha256(f.content)}\nsize ${f.content.length}\n`)) : gitSha1(f.content);
    return {
      datasetRepo: f.repo, path: f.path, size: f.content.length, oid, lfsSha256: f.lfs ? sha256(f.content) : null,
      blob: blobOf(f), shardIdx: f.shard ?? 0, state: f.state ?? 'pending',
    };
  });
  const planId = createPlan(store, {
    manifestPath: join(dir, 'm.yaml'),
    manifestSha256: 'ab'.repeat(32),
    root,
    hubUrl: opts.hubUrl ?? 'http://127.0.0.1:9',
    datasets: repos.map((repo) => ({ repo, revision: 'main', commitSha: commitOf(repo) })),
    shards: Array.from({ length: shardCount }, (_, idx) => {
      const mine = planFiles.filter((f) => f.shardIdx === idx);
      return { idx, bytesTotal: mine.reduce((s, f) => s + f.size, 0), filesTotal: mine.length };
    }),
    files: planFiles,
  });
  return { dir, root, dbPath, store, planId, cleanup: () => (store.close(), rmSync(dir, { recursive: true, force: true })) };
}

/**
 * A transport fake for the engine's contract (write the partial, then rename into place),
 * serving contents by resolve URL; tests of the real engine live in ./download and run over
 * HTTP. `fail` decides per request whether to throw instead.
 */
export function fakeDownload(files: FixtureFile[], fail?: (req: DownloadRequest) => Error | undefined): DownloadFn & { calls: DownloadRequest[] } {
  const byPath = new Map(files.map((f) => [`${f.repo}/${f.path}`, f]));
  const calls: DownloadRequest[] = [];
  const fn = async (req: DownloadRequest) => {
    calls.push(req);
    const err = fail?.(req);
    if (err) throw err;
    const f = byPath.get(`${req.repo}/${req.path}`);
    if (!f) throw new Error(`no such file ${req.repo}/${req.path}`);
    await mkdir(join(req.partialPath, '..'), { recursive: true });
    await writeFile(req.partialPath, f.content);
    req.onProgress?.(f.content.length);
    await rename(req.partialPath, req.finalPath);
    return { bytesFetched: f.content.length, resumedFrom: 0 };
  };
  return Object.assign(fn, { calls });
}

export const bytes = (n: number): Buffer => randomBytes(n);

/** A request gate that never waits (no throttle in these tests). */
export const noGate = { wait: async (): Promise<void> => undefined, pause: (): void => undefined };

/** Claim the fixture's shard 0 (or the next one) as `owner`. */
export function claimOwn(f: PlanFixture, owner = 'test@host:1', ttlMs = 60_000): Claim {
  const c = claimShard(f.store, { planId: f.planId, owner, preferIndex: 0, ttlMs });
  if (!c) throw new Error('nothing to claim');
  return c;
}

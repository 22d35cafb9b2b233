// A real state database and a real cache layout on disk, as `hfhpc plan` + `hfhpc work` leave
// them, for verify/status/cleanup tests that do not need a Hub.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cacheLayout, createPlan, openStore, type NewPlanFile, type Store } from '@hfhpc/core';

export interface FixtureFile {
  repo: string;
  path: string;
  content: string | Buffer;
  lfs?: boolean;
  shard: number;
  /** Default 'done': blob and snapshot link are written. */
  state?: 'pending' | 'done';
}

export interface CacheFixture {
  root: string;
  dbPath: string;
  store: Store;
  clock: { t: number };
  planId: number;
  /** `${repo}:${path}` → file id. */
  fileId(repo: string, p: string): number;
  blobOf(repo: string, p: string): string;
  blobPath(repo: string, p: string): string;
  linkPath(repo: string, p: string): string;
  commit(repo: string): string;
  cleanup(): void;
}

export const gitSha1 = (b: Buffer): string => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');
export const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

export function makeCache(params: { files: FixtureFile[]; root?: string; clock?: { t: number } }): CacheFixture {
  const root = params.root ?? mkdtempSync(path.join(tmpdir(), 'hfhpc-ops-'));
  const dbPath = path.join(root, '_hfhpc', 'state.sqlite');
  const clock = params.clock ?? { t: 1_700_000_000_000 };
  const store = openStore({ path: dbPath, now: () => clock.t });
  const repos = [...new Set(params.files.map((f) => f.repo))];
  const commit = (repo: string): string => createHash('sha1').update(repo).digest('hex');
  const meta = new Map<string, { blob: string; oid: string; lfs: string | null; bytes: Buffer }>();
  const files: NewPlanFile[] = params.files.map((f) => {
    const bytes = Buffer.from(f.content);
    const lfs = f.lfs ? sha256(bytes) : null;
    const oid = f.lfs ? gitSha1(Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${lfs}\nsize ${bytes.length}\n`)) : gitSha1(bytes);
    const blob = lfs ?? oid;
    meta.set(`${f.repo}:${f.path}`, { blob, oid, lfs, bytes });
    return { datasetRepo: f.repo, path: f.path, size: bytes.length, oid, lfsSha256: lfs, blob, shardIdx: f.shard, state: f.state ?? 'done' };
  });
  const shardCount = Math.max(...params.files.map((f) => f.shard)) + 1;
  const shards = Array.from({ length: shardCount }, (_, idx) => {
    const mine = files.filter((f) => f.shardIdx === idx);
    return { idx, bytesTotal: mine.reduce((s, f) => s + f.size, 0), filesTotal: mine.length };
  });
  const planId = createPlan(store, {
    manifestPath: path.join(root, 'm.yaml'),
    manifestSha256: 'ab'.repeat(32),
    root,
    hubUrl: 'http://127.0.0.1:9',
    datasets: repos.map((repo) => ({ repo, revision: 'main', commitSha: commit(repo) })),
    shards,
    files,
  });
  for (const f of params.files) {
    if ((f.state ?? 'done') !== 'done') continue;
    const m = meta.get(`${f.repo}:${f.path}`)!;
    const layout = cacheLayout(root, f.repo);
    mkdirSync(layout.blobsDir, { recursive: true });
    if (!existsSync(layout.blobPath(m.blob))) writeFileSync(layout.blobPath(m.blob), m.bytes);
    const link = layout.snapshotPath(commit(f.repo), f.path);
    mkdirSync(path.dirname(link), { recursive: true });
    symlinkSync(layout.blobLinkTarget(f.path, m.blob), link);
  }
  const ids = new Map(
    (store.db.prepare('SELECT f.id, d.repo, f.path FROM files f JOIN datasets d ON d.id = f.dataset_id WHERE d.plan_id = ?').all(planId) as { id: number; repo: string; path: string }[]).map(
      (r) => [`${r.repo}:${r.path}`, r.id],
    ),
  );
  return {
    root,
    dbPath,
    store,
    clock,
    planId,
    fileId: (repo, p) => ids.get(`${repo}:${p}`)!,
    blobOf: (repo, p) => meta.get(`${repo}:${p}`)!.blob,
    blobPath: (repo, p) => cacheLayout(root, repo).blobPath(meta.get(`${repo}:${p}`)!.blob),
    linkPath: (repo, p) => cacheLayout(root, repo).snapshotPath(commit(repo), p),
    commit,
    cleanup() {
      store.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

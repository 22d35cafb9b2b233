// Shared set-up of the plan tests: a fakehub over a few small repos, a temp root, manifests,
// and a way to pretend a worker finished files (blob + snapshot link + state done).
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cacheLayout, openStore, type Store } from '@hfhpc/core';
import { startFakeHub, type FakeHub, type FakeHubConfig } from '@hfhpc/fakehub';
import type { Exec } from '@hfhpc/scheduler';

export const TOKEN = 'hf_plantesttoken_aaaaaaaaaaaaaaaa';
export const OTHER_TOKEN = 'hf_plantestother_bbbbbbbbbbbbbbbb';

export const HUB_CONFIG: FakeHubConfig = {
  tokens: [
    { token: TOKEN, user: 'alice', canAccessGated: ['org/gated'] },
    { token: OTHER_TOKEN, user: 'bob' },
  ],
  repos: [
    {
      id: 'org/many',
      files: [
        { path: 'README.md', text: '# many\n' },
        { path: 'big/huge.bin', size: 40_000, lfs: true },
        { path: 'dup/copy.parquet', size: 1000, lfs: true, seed: 77 },
      ],
      generate: [
        { count: 40, prefix: 'data/train/', ext: '.parquet', size: [1000, 4000], lfs: true, seed: 1 },
        { count: 12, prefix: 'data/notes/', ext: '.md', size: [10, 200], lfs: false, seed: 2 },
      ],
    },
    { id: 'org/gated', gated: 'manual', files: [{ path: 'a.bin', size: 100, lfs: true }] },
    // Same seed and size as org/many's dup/copy.parquet: one blob in two paths and two repos.
    { id: 'org/twin', files: [{ path: 'copy.parquet', size: 1000, lfs: true, seed: 77 }, { path: 'x.parquet', size: 1000, lfs: true, seed: 77 }] },
  ],
};

export interface TestEnv {
  hub: FakeHub;
  dir: string;
  root: string;
  dbPath: string;
  /** Environment without any token (HF_HOME points into the temp dir). */
  env: NodeJS.ProcessEnv;
  /** An `Exec` for which scontrol is not installed. */
  noSlurm: Exec;
  manifest(body: Record<string, unknown>, name?: string): Promise<string>;
  close(): Promise<void>;
}

export async function setup(options: { pageSize?: number } = {}): Promise<TestEnv> {
  const hub = await startFakeHub({ config: structuredClone(HUB_CONFIG), pageSize: options.pageSize ?? 1000, hashCacheDir: false });
  const dir = await mkdtemp(path.join(tmpdir(), 'hfhpc-plan-'));
  const root = path.join(dir, 'root');
  return {
    hub,
    dir,
    root,
    dbPath: path.join(root, '_hfhpc', 'state.sqlite'),
    env: { HF_HOME: path.join(dir, 'hf-home'), HOME: dir, HF_ENDPOINT: hub.hubUrl },
    noSlurm: async () => ({ exitCode: 127, stdout: '', stderr: 'scontrol: not found' }),
    async manifest(body, name = 'manifest.json') {
      const file = path.join(dir, name);
      await writeFile(file, JSON.stringify({ allow_prefixes: ['org/'], root, ...body }));
      return file;
    },
    async close() {
      await hub.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export function withStore<T>(dbPath: string, fn: (store: Store) => T): T {
  const store = openStore({ path: dbPath, create: false });
  try {
    return fn(store);
  } finally {
    store.close();
  }
}

export interface FileRow {
  repo: string;
  path: string;
  blob: string;
  size: number;
  state: string;
  shard: number;
}

/** Every file of a plan with its dataset and shard index. */
export function planFiles(dbPath: string, planId: number): FileRow[] {
  return withStore(dbPath, (s) =>
    s.read(
      (db) =>
        db
          .prepare(
            `SELECT d.repo, f.path, f.blob, f.size, f.state, s.idx AS shard FROM files f
             JOIN datasets d ON d.id = f.dataset_id JOIN shards s ON s.id = f.shard_id
             WHERE d.plan_id = ? ORDER BY d.repo, f.path`,
          )
          .all(planId) as FileRow[],
    ),
  );
}

/** What a worker leaves behind for a finished file: the blob, the snapshot link, state done. */
export async function pretendDone(params: { dbPath: string; root: string; planId: number; repo: string; commit: string; paths: string[] }): Promise<void> {
  const { dbPath, root, planId, repo, commit, paths } = params;
  const layout = cacheLayout(root, repo);
  const rows = planFiles(dbPath, planId).filter((f) => f.repo === repo && paths.includes(f.path));
  for (const f of rows) {
    await mkdir(layout.blobsDir, { recursive: true });
    await writeFile(layout.blobPath(f.blob), Buffer.alloc(f.size));
    const link = layout.snapshotPath(commit, f.path);
    await mkdir(path.dirname(link), { recursive: true });
    await rm(link, { force: true });
    await symlink(layout.blobLinkTarget(f.path, f.blob), link);
  }
  withStore(dbPath, (s) =>
    s.write((db) => {
      const st = db.prepare(
        "UPDATE files SET state = 'done', bytes_done = size WHERE path = ? AND dataset_id = (SELECT id FROM datasets WHERE plan_id = ? AND repo = ?)",
      );
      for (const p of paths) st.run(p, planId, repo);
    }),
  );
}

/** Mark shards failed, with their first file failed, as a worker does when a file cannot be fetched. */
export function failShards(dbPath: string, planId: number, indices: number[]): void {
  withStore(dbPath, (s) =>
    s.write((db) => {
      for (const idx of indices) {
        const shard = db.prepare('SELECT id FROM shards WHERE plan_id = ? AND idx = ?').get(planId, idx) as { id: number };
        db.prepare("UPDATE shards SET state = 'failed', last_error = 'boom' WHERE id = ?").run(shard.id);
        db.prepare("UPDATE files SET state = 'failed', attempts = 1, last_error = 'boom' WHERE id = (SELECT MIN(id) FROM files WHERE shard_id = ?)").run(shard.id);
      }
    }),
  );
}

import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { cacheLayout, claimShard, createLogger, getPlan, latestPlan, listShards } from '@hfhpc/core';
import { planDownload, type PlanDownloadParams } from '../src/plan-download.js';
import type { Scheduler } from '@hfhpc/scheduler';
import { TOKEN, planFiles, pretendDone, setup, withStore, type TestEnv } from './plan-helpers.js';

let t: TestEnv;
afterEach(async () => {
  await t.close();
});

const plan = (params: Partial<PlanDownloadParams> & { manifestPath: string }) =>
  planDownload({ env: t.env, exec: t.noSlurm, logger: quietLogger, hubRetry: { retryBaseMs: 1, maxAttempts: 3 }, ...params });

// Logs are not under test here; keep the jest output clean.
const quietLogger = createLogger({ stream: new Writable({ write: (_c, _e, cb) => cb() }) });

describe('planDownload against fakehub', () => {
  describe('with small tree pages', () => {
    beforeEach(async () => {
      t = await setup({ pageSize: 7 });
    });

    it('follows every tree page at the pinned commit, without expand, and stores every file once', async () => {
      const manifestPath = await t.manifest({ datasets: [{ repo: 'org/many' }] });
      const r = await plan({ manifestPath, shards: 6 });
      const commit = t.hub.commitSha('org/many');
      const trees = t.hub.requests.filter((q) => q.endpoint === 'tree');
      expect(trees.length).toBeGreaterThanOrEqual(8); // 55 files + folders at 7 per page
      expect(trees.every((q) => q.path.includes(`/tree/${commit}`) && !q.query.includes('expand=true'))).toBe(true);
      const stored = planFiles(t.dbPath, r.planId!);
      expect(stored.map((f) => f.path)).toEqual(t.hub.files('org/many'));
      expect(r).toMatchObject({ files: 55, shards: 6, dryRun: false });
      expect(r.datasets[0]).toMatchObject({ repo: 'org/many', revision: 'main', commit, files: 55 });
      expect(r.datasets[0].changes).toEqual({ new: 55, changed: 0, removed: 0, unchanged: 0, done: 0 });
    });
  });

  describe('with the default page size', () => {
    beforeEach(async () => {
      t = await setup();
    });

    it('applies include/exclude with fast-glob semantics', async () => {
      const manifestPath = await t.manifest({ datasets: [{ repo: 'org/many', include: ['data/**', 'README.md'], exclude: ['**/*.md'] }] });
      const r = await plan({ manifestPath, shards: 2 });
      const paths = planFiles(t.dbPath, r.planId!).map((f) => f.path);
      expect(paths).toEqual(t.hub.files('org/many').filter((p) => p.startsWith('data/train/')));
      expect(paths).toHaveLength(40);
    });

    it('pins the revision once: a branch that moves during the listing changes nothing', async () => {
      const before = t.hub.commitSha('org/many');
      t.hub.faults.moveBranch({ repo: 'org/many', endpoint: 'repo-info', commit: { files: [{ path: 'late.bin', size: 5 }], delete: ['README.md'] } });
      const manifestPath = await t.manifest({ datasets: [{ repo: 'org/many', revision: 'main' }] });
      const r = await plan({ manifestPath, shards: 3 });
      expect(t.hub.commitSha('org/many')).not.toBe(before); // the branch really moved
      expect(r.datasets[0].commit).toBe(before);
      const paths = planFiles(t.dbPath, r.planId!).map((f) => f.path);
      expect(paths).toContain('README.md');
      expect(paths).not.toContain('late.bin');
      const layout = cacheLayout(t.root, 'org/many');
      expect(await readFile(layout.refPath('main'), 'utf8')).toBe(before);
      const tree = JSON.parse(await readFile(layout.treePath(before), 'utf8'));
      expect(Object.keys(tree.files)).toEqual(t.hub.files('org/many', before));
    });

    it('re-plans idempotently: done stays done, --force resets, a new commit re-plans only what changed', async () => {
      const manifestPath = await t.manifest({ datasets: [{ repo: 'org/many', exclude: ['big/**'] }] });
      const first = await plan({ manifestPath, shards: 4 });
      const commit1 = first.datasets[0].commit;
      const all = planFiles(t.dbPath, first.planId!);
      const donePaths = all.filter((f) => f.path.startsWith('data/train/')).map((f) => f.path);
      await pretendDone({ dbPath: t.dbPath, root: t.root, planId: first.planId!, repo: 'org/many', commit: commit1, paths: donePaths });

      // Same manifest, same commit: nothing verified is fetched again.
      const again = await plan({ manifestPath, shards: 4 });
      expect(again.planId).toBe(first.planId! + 1);
      expect(again.datasets[0].changes).toEqual({ new: 0, changed: 0, removed: 0, unchanged: all.length - donePaths.length, done: donePaths.length });
      const pendingBytes = all.filter((f) => !donePaths.includes(f.path)).reduce((s, f) => s + f.size, 0);
      expect(again.bytesToFetch).toBe(pendingBytes);
      const states = planFiles(t.dbPath, again.planId!);
      expect(states.filter((f) => f.state === 'done').map((f) => f.path).sort()).toEqual([...donePaths].sort());

      // --force: every file pending, full cost.
      const forced = await plan({ manifestPath, shards: 4, force: true });
      expect(forced.datasets[0].changes.done).toBe(0);
      expect(forced.bytesToFetch).toBe(all.reduce((s, f) => s + f.size, 0));
      expect(planFiles(t.dbPath, forced.planId!).every((f) => f.state === 'pending')).toBe(true);

      // A new commit: one file changed, one added, one deleted.
      const changedPath = donePaths[0];
      const deletedPath = donePaths[1];
      t.hub.moveBranch('org/many', 'main', { files: [{ path: changedPath, size: 3333, lfs: true, seed: 4242 }, { path: 'data/train/added.parquet', size: 777, lfs: true }], delete: [deletedPath] });
      // Put the done state back (the forced plan reset it) before re-planning at the new commit.
      await pretendDone({ dbPath: t.dbPath, root: t.root, planId: forced.planId!, repo: 'org/many', commit: commit1, paths: donePaths });
      const moved = await plan({ manifestPath, shards: 4 });
      expect(moved.datasets[0].commit).not.toBe(commit1);
      // Unchanged done files are not linked under the new commit yet: pending, but free to fetch.
      expect(moved.datasets[0].changes).toEqual({ new: 1, changed: 1, removed: 1, unchanged: all.length - 2, done: 0 });
      const movedFiles = planFiles(t.dbPath, moved.planId!);
      const cost = (p: string) => movedFiles.find((f) => f.path === p)!.size;
      expect(moved.bytesToFetch).toBe(pendingBytes + cost(changedPath) + cost('data/train/added.parquet'));
      expect(movedFiles.find((f) => f.path === changedPath)!.blob).not.toBe(all.find((f) => f.path === changedPath)!.blob);
      expect(await readFile(cacheLayout(t.root, 'org/many').refPath('main'), 'utf8')).toBe(moved.datasets[0].commit);
    });

    it('warns when the plan it replaces still has shards leased by running tasks', async () => {
      const manifestPath = await t.manifest({ datasets: [{ repo: 'org/twin' }] });
      const first = await plan({ manifestPath });
      withStore(t.dbPath, (s) => claimShard(s, { planId: first.planId!, owner: '1_0@node:1', ttlMs: 600_000 }));
      const lines: string[] = [];
      const logger = createLogger({ stream: new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) }) });
      await plan({ manifestPath, logger });
      expect(lines.join('')).toContain(`plan ${first.planId} still has 1 shard(s) leased by running tasks`);
    });

    it('plans a blob shared by two paths and two datasets once, in one shard', async () => {
      const manifestPath = await t.manifest({ datasets: [{ repo: 'org/many' }, { repo: 'org/twin' }] });
      const r = await plan({ manifestPath, shards: 8 });
      const files = planFiles(t.dbPath, r.planId!);
      const blob = files.find((f) => f.repo === 'org/twin' && f.path === 'copy.parquet')!.blob;
      const sharing = files.filter((f) => f.blob === blob);
      expect(sharing.map((f) => `${f.repo}:${f.path}`).sort()).toEqual(['org/many:dup/copy.parquet', 'org/twin:copy.parquet', 'org/twin:x.parquet']);
      expect(new Set(sharing.map((f) => f.shard)).size).toBe(1);
      expect(r.bytesToFetch).toBe(r.bytes - 2 * 1000);
    });

    it('gives a file larger than --shard-size a shard of its own and reports the spread', async () => {
      const manifestPath = await t.manifest({ datasets: [{ repo: 'org/many' }] });
      const r = await plan({ manifestPath, shardSize: '30kB' });
      const files = planFiles(t.dbPath, r.planId!);
      const huge = files.find((f) => f.path === 'big/huge.bin')!;
      expect(files.filter((f) => f.shard === huge.shard)).toHaveLength(1);
      const shards = withStore(t.dbPath, (s) => listShards(s, r.planId!));
      expect(r.shards).toBe(shards.length);
      expect(r.spread.largest).toBe(40_000);
      expect(r.spread.smallest).toBe(Math.min(...shards.map((s) => s.bytesTotal)));
    });

    it('retries 5xx on tree pages and 429 on the repo info (honouring Retry-After), then plans', async () => {
      t.hub.faults.serverError({ endpoint: 'tree', status: 503, count: 2 });
      t.hub.faults.rateLimit({ endpoint: 'repo-info', retryAfterSeconds: 4, count: 1 });
      const waits: number[] = [];
      const manifestPath = await t.manifest({ datasets: [{ repo: 'org/twin' }] });
      const r = await plan({ manifestPath, hubRetry: { retryBaseMs: 1, sleep: async (ms) => void waits.push(ms) } });
      expect(r.files).toBe(2);
      expect(waits).toHaveLength(3);
      expect(Math.max(...waits)).toBeGreaterThanOrEqual(4000);
      expect(t.hub.requests.filter((q) => q.status === 503 || q.status === 429)).toHaveLength(3);
    });

    it('refuses a hostile path with exit 2, naming repo and path, and stores nothing', async () => {
      t.hub.faults.hostileTreeEntry({ repo: 'org/many', path: '../../.ssh/authorized_keys' });
      const manifestPath = await t.manifest({ datasets: [{ repo: 'org/many' }] });
      await expect(plan({ manifestPath, shards: 2 })).rejects.toMatchObject({
        code: 'E_UNSAFE_PATH',
        exitCode: 2,
        message: expect.stringMatching(/"\.\.\/\.\.\/\.ssh\/authorized_keys" in org\/many/),
      });
      expect(existsSync(t.dbPath)).toBe(false);
      expect(existsSync(t.root)).toBe(false);
    });

    it('refuses a gated repo without a token, naming the repo and its access page', async () => {
      const manifestPath = await t.manifest({ datasets: [{ repo: 'org/gated' }] });
      await expect(plan({ manifestPath })).rejects.toMatchObject({
        code: 'E_AUTH',
        exitCode: 2,
        message: expect.stringContaining('org/gated'),
        hint: expect.stringContaining(`${t.hub.hubUrl}/datasets/org/gated`),
      });
      expect(existsSync(t.root)).toBe(false);
    });

    it('probes one file of a gated repo with a token: allowed plans, not allowed fails early', async () => {
      const manifestPath = await t.manifest({ datasets: [{ repo: 'org/gated' }] });
      const ok = await plan({ manifestPath, env: { ...t.env, HF_TOKEN: TOKEN } });
      expect(ok.planId).toBe(1);
      const probes = t.hub.requests.filter((q) => q.endpoint === 'resolve');
      expect(probes).toHaveLength(1);
      expect(probes[0].method).toBe('HEAD');
      expect(t.hub.requests.some((q) => q.host === 'cdn')).toBe(false);
      await expect(plan({ manifestPath, env: { ...t.env, HF_TOKEN: 'hf_plantestother_bbbbbbbbbbbbbbbb' } })).rejects.toMatchObject({
        code: 'E_AUTH',
        hint: expect.stringContaining(`${t.hub.hubUrl}/datasets/org/gated`),
      });
      expect(withStore(t.dbPath, (s) => latestPlan(s)?.id)).toBe(1);
    });

    it('refuses a repo outside the allow-list before any request', async () => {
      const manifestPath = await t.manifest({ datasets: [{ repo: 'org/many' }, { repo: 'evil/many' }] });
      await expect(plan({ manifestPath })).rejects.toMatchObject({ exitCode: 2, message: expect.stringContaining('evil/many') });
      expect(t.hub.requests).toHaveLength(0);
    });

    it('refuses a bad Slurm setting before any request', async () => {
      const manifestPath = await t.manifest({ datasets: [{ repo: 'org/many' }] });
      await expect(plan({ manifestPath, slurm: { time: 'soon' } })).rejects.toMatchObject({ code: 'E_USAGE' });
      expect(t.hub.requests).toHaveLength(0);
    });

    it('refuses the plan when the root is short of space (exit 2, nothing written) unless --force', async () => {
      const manifestPath = await t.manifest({ datasets: [{ repo: 'org/many' }] });
      const statfs = async () => ({ bavail: 10, bsize: 4096 });
      await expect(plan({ manifestPath, statfs })).rejects.toMatchObject({
        code: 'E_PREFLIGHT',
        exitCode: 2,
        message: expect.stringMatching(/not enough free space .* 40 KiB free/),
      });
      expect(existsSync(t.root)).toBe(false);
      const forced = await plan({ manifestPath, statfs, force: true });
      expect(forced.planId).toBe(1);
      expect(forced.freeBytes).toBe(40960);
    });

    it('--dry-run lists and shards but writes nothing', async () => {
      const manifestPath = await t.manifest({ datasets: [{ repo: 'org/many' }] });
      const r = await plan({ manifestPath, shards: 3, dryRun: true });
      expect(r).toMatchObject({ planId: null, dryRun: true, files: 55, shards: 3, scripts: [], jobIds: [] });
      expect(existsSync(t.root)).toBe(false);
    });

    it('renders several arrays with task offsets past MaxArraySize, without the token, and submits each', async () => {
      const manifestPath = await t.manifest({ datasets: [{ repo: 'org/many' }], slurm: { partition: 'dl', time: '2:00:00' } });
      const submitted: string[] = [];
      const scheduler: Scheduler = {
        kind: 'slurm',
        available: async () => true,
        submit: async ({ scriptPath }) => {
          submitted.push(scriptPath);
          return String(100 + submitted.length);
        },
        jobStates: async () => [],
        cancel: async () => undefined,
      };
      const r = await plan({ manifestPath, shards: 5, maxArraySize: 2, maxParallel: 3, submit: true, scheduler, env: { ...t.env, HF_TOKEN: TOKEN } });
      const dir = path.join(t.root, '_hfhpc', 'plans', String(r.planId));
      expect(r.scripts).toEqual([0, 1, 2].map((k) => path.join(dir, `download-${k}.sbatch`)));
      expect((await readdir(dir)).sort()).toEqual(['download-0.sbatch', 'download-1.sbatch', 'download-2.sbatch', 'logs']);
      const texts = await Promise.all(r.scripts.map((s) => readFile(s, 'utf8')));
      expect(texts.map((x) => /#SBATCH --array=(\S+)/.exec(x)?.[1])).toEqual(['0-1%1', '0-1%1', '0%1']);
      expect(texts.map((x) => /--task-offset (\d+)/.exec(x)?.[1])).toEqual(['0', '2', '4']);
      for (const x of texts) {
        expect(x).toContain('#SBATCH --partition=dl');
        expect(x).toContain('#SBATCH --time=2:00:00');
        expect(x).toContain(`--plan-id ${r.planId}`);
        expect(x).toContain(`#SBATCH --output=${path.join(dir, 'logs')}/%A_%a.out`);
        expect(x).not.toContain(TOKEN);
      }
      expect(submitted).toEqual(r.scripts);
      expect(r.jobIds).toEqual(['101', '102', '103']);
      expect(withStore(t.dbPath, (s) => getPlan(s, r.planId!)?.jobIds)).toEqual(['101', '102', '103']);
    });
  });
});

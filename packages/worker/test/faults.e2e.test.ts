// `hfhpc work` as a real child process against fakehub, one fault knob at a time and all at
// once. After each run: every planned file verified in the HF cache layout, nothing
// unverified at a final path, no Authorization header on the CDN.
import { describe, expect, it } from '@jest/globals';
import { getThrottle, openStore, recentEvents } from '@hfhpc/core';
import type { FakeHub, FakeHubConfig } from '@hfhpc/fakehub';
import { cdnRequestsWithAuth, checkCache, checkFinalBlobs, contentRequests, planFromHub, runWork, useSharedHub, workspace, type Workspace } from './helpers/e2e.js';

const TOKEN = 'hf_e2eToken0123456789abcdefXYZ';
const config: FakeHubConfig = {
  tokens: [{ token: TOKEN, user: 'e2e', canAccessGated: ['*'] }],
  repos: [
    {
      id: 'bigcode/faulty',
      files: [
        { path: 'README.md', text: '# faulty\n\nA repo that misbehaves on purpose.\n'.repeat(20) },
        { path: 'data/big-0.bin', size: '2MiB', lfs: true, seed: 7 },
        { path: 'data/copy of big-0.bin', size: '2MiB', lfs: true, seed: 7 },
        { path: 'data/big-1.bin', size: '1MiB', lfs: true },
        { path: 'data/empty.txt', text: '' },
      ],
      generate: { count: 10, prefix: 'data/small/', size: [200, 4000], lfs: false, ext: '.txt' },
    },
    { id: 'bigcode/gated', gated: 'manual', files: [{ path: 'a.bin', size: '300KiB', lfs: true }, { path: 'b.txt', text: 'hello gated\n' }] },
  ],
};
const REPOS = ['bigcode/faulty', 'bigcode/gated'];

let hub: FakeHub;
let ws: Workspace | undefined;
useSharedHub(config, { started: (h) => (hub = h), workspace: () => ws });

async function runOnce(env: NodeJS.ProcessEnv = { HF_TOKEN: TOKEN }) {
  ws = workspace();
  const { files } = await planFromHub({ hub, ws, repos: REPOS, shards: 2 });
  // Two tasks: each claims its own shard and then tries to steal.
  const runs = [runWork(ws, hub, ['--task-id', '0', '--concurrency', '4'], env), runWork(ws, hub, ['--task-id', '1', '--concurrency', '4'], env)];
  const results = await Promise.all(runs.map((r) => r.done));
  return { files, results };
}

async function expectAllGood(files: Awaited<ReturnType<typeof runOnce>>['files'], results: { code: number; stderr: string }[]) {
  for (const r of results) expect({ code: r.code, stderr: r.code === 0 ? '' : r.stderr }).toEqual({ code: 0, stderr: '' });
  expect(await checkCache({ root: ws!.root, hub, complete: files })).toEqual([]);
  expect(cdnRequestsWithAuth(hub)).toBe(0);
}

describe('hfhpc work against fakehub faults', () => {
  it('429 on resolve: waits Retry-After, shares the pause through the throttle table, then completes', async () => {
    const f = hub.faults.rateLimit({ endpoint: 'resolve', count: 2, retryAfterSeconds: 1 });
    const { files, results } = await runOnce();
    expect(f.hits).toBe(2);
    await expectAllGood(files, results);
    const store = openStore({ path: ws!.dbPath });
    try {
      expect(recentEvents(store, { limit: 100 }).some((e) => e.kind === 'throttle')).toBe(true);
      expect(getThrottle(store)).toBeNull(); // the pause has passed
    } finally {
      store.close();
    }
  });

  it('503 bursts on the Hub and the CDN: retried with backoff', async () => {
    const a = hub.faults.serverError({ endpoint: 'resolve', count: 3 });
    const b = hub.faults.serverError({ host: 'cdn', count: 2 });
    const { files, results } = await runOnce();
    expect(a.hits + b.hits).toBe(5);
    await expectAllGood(files, results);
  });

  it('dropped connections mid-body: resumed with Range', async () => {
    const f = hub.faults.dropConnection({ host: 'cdn', afterBytes: 256 * 1024, count: 3 });
    const { files, results } = await runOnce();
    expect(f.hits).toBe(3);
    await expectAllGood(files, results);
    expect(hub.requests.some((r) => r.host === 'cdn' && r.range?.startsWith('bytes=') && !r.range.startsWith('bytes=0-'))).toBe(true);
  });

  it('corrupted bytes (right length): the hash catches it, the blob is fetched again', async () => {
    const a = hub.faults.corruptBytes({ host: 'cdn', path: 'data/big-1.bin', count: 1 });
    const b = hub.faults.corruptBytes({ endpoint: 'resolve', path: /^data\/small\//, count: 1 });
    const { files, results } = await runOnce();
    expect(a.hits + b.hits).toBe(2);
    await expectAllGood(files, results);
  });

  it('bandwidth cap: slower, same result', async () => {
    const f = hub.faults.bandwidth({ host: 'cdn', bytesPerSecond: 4 * 1024 * 1024 });
    const { files, results } = await runOnce();
    expect(f.hits).toBeGreaterThan(0);
    await expectAllGood(files, results);
  });

  it('gated repo without a token: its files fail with a message naming the repo and the access page; the rest completes', async () => {
    const { files, results } = await runOnce({});
    const codes = results.map((r) => r.code).sort();
    expect(codes).toContain(1);
    const stderr = results.map((r) => r.stderr).join('\n');
    expect(stderr).toMatch(/bigcode\/gated/);
    expect(stderr).toMatch(/log in|token|access/i);
    expect(await checkCache({ root: ws!.root, hub, complete: files.filter((f) => f.repo === 'bigcode/faulty') })).toEqual([]);
    // One resolve for the gated repo at most per task: an auth error is not retried nor repeated.
    const gated = [...contentRequests(hub)].filter(([k]) => k.startsWith('bigcode/gated/'));
    expect(gated.reduce((s, [, n]) => s + n, 0)).toBeLessThanOrEqual(2);
    expect(await checkFinalBlobs(ws!.root)).toEqual([]);
  });

  it('all faults at once, plus a hostile path in a tampered plan: every good file verified, the hostile one refused', async () => {
    hub.faults.rateLimit({ endpoint: 'resolve', count: 2, retryAfterSeconds: 1 });
    hub.faults.serverError({ endpoint: 'resolve', count: 2 });
    hub.faults.serverError({ host: 'cdn', count: 1 });
    hub.faults.dropConnection({ host: 'cdn', afterBytes: 200_000, count: 2 });
    hub.faults.corruptBytes({ host: 'cdn', count: 1 });
    hub.faults.bandwidth({ host: 'cdn', bytesPerSecond: 8 * 1024 * 1024 });
    ws = workspace();
    const { files } = await planFromHub({ hub, ws, repos: REPOS, shards: 2 });
    const store = openStore({ path: ws.dbPath });
    store.write((db) =>
      db.prepare("INSERT INTO files (dataset_id, shard_id, path, size, oid, blob, state, bytes_done, attempts) SELECT dataset_id, shard_id, '../../etc/passwd', 11, oid, oid, 'pending', 0, 0 FROM files WHERE path = 'README.md'").run(),
    );
    store.close();
    const results = await Promise.all([0, 1].map((i) => runWork(ws!, hub, ['--task-id', String(i), '--concurrency', '4'], { HF_TOKEN: TOKEN }).done));
    const stderr = results.map((r) => r.stderr).join('\n');
    expect(results.map((r) => r.code)).toContain(1);
    expect(stderr).toMatch(/unsafe path "\.\.\/\.\.\/etc\/passwd"/);
    expect(await checkCache({ root: ws.root, hub, complete: files })).toEqual([]);
    expect(cdnRequestsWithAuth(hub)).toBe(0);
    expect([...contentRequests(hub).keys()].some((k) => k.includes('passwd'))).toBe(false);
  });
});

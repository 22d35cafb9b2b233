// Pacing to the Hub's request budget with real `hfhpc work` processes: fakehub enforces a
// small resolve budget per token (a 429 past it). With the RateLimit headers the tasks share
// the budget through the state database and stop before the Hub says 429; without them the
// 429 + Retry-After pause still completes the plan.
import { describe, expect, it } from '@jest/globals';
import { getRateBudget, openStore, recentEvents } from '@hfhpc/core';
import type { FakeHub, FakeHubConfig } from '@hfhpc/fakehub';
import { checkCache, planFromHub, runWork, useSharedHub, workspace, type Workspace } from './helpers/e2e.js';

const TOKEN = 'hf_pacingToken0123456789abcdefXYZ';
const config: FakeHubConfig = {
  tokens: [{ token: TOKEN, user: 'pacer', canAccessGated: ['*'] }],
  repos: [{ id: 'bigcode/tiny', files: [], generate: { count: 100, prefix: 'data/', size: [50, 400], lfs: false, ext: '.txt' } }],
};
const budget = { windowSeconds: 4, resolvers: 20, enforce: true };

async function runArray(hub: FakeHub, ws: Workspace, tasks: number) {
  const { files } = await planFromHub({ hub, ws, repos: ['bigcode/tiny'], shards: tasks * 2 });
  const runs = Array.from({ length: tasks }, (_, i) => runWork(ws, hub, ['--task-id', String(i), '--concurrency', '4'], { HF_TOKEN: TOKEN }));
  const results = await Promise.all(runs.map((r) => r.done));
  const resolves = hub.requests.filter((r) => r.host === 'hub' && r.endpoint === 'resolve');
  return { files, results, resolves, limited: resolves.filter((r) => r.status === 429).length };
}

describe('with RateLimit headers', () => {
  let hub: FakeHub;
  let ws: Workspace | undefined;
  useSharedHub(config, { started: (h) => (hub = h), workspace: () => ws }, { rateLimits: budget });

  it('three tasks share the budget through the database: (almost) no 429, every file done', async () => {
    ws = workspace();
    const { files, results, resolves, limited } = await runArray(hub, ws, 3);
    for (const r of results) expect({ code: r.code, stderr: r.code === 0 ? '' : r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(await checkCache({ root: ws.root, hub, complete: files })).toEqual([]);
    expect(resolves.length).toBeGreaterThanOrEqual(100);
    expect(limited / resolves.length).toBeLessThanOrEqual(0.05);
    const store = openStore({ path: ws.dbPath, readonly: true });
    try {
      expect(getRateBudget(store, 'resolvers')).toMatchObject({ quota: 20, windowMs: 4000 });
    } finally {
      store.close();
    }
  }, 180_000);
});

describe('without RateLimit headers', () => {
  let hub: FakeHub;
  let ws: Workspace | undefined;
  useSharedHub(config, { started: (h) => (hub = h), workspace: () => ws }, { rateLimits: { ...budget, headers: false } });

  it('the 429 + Retry-After pause, shared through the throttle table, still completes the plan', async () => {
    ws = workspace();
    const { files, results, resolves, limited } = await runArray(hub, ws, 3);
    for (const r of results) expect({ code: r.code, stderr: r.code === 0 ? '' : r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(await checkCache({ root: ws.root, hub, complete: files })).toEqual([]);
    // Unpaced: the budget is overrun and the 429s are retried.
    expect(limited).toBeGreaterThan(0);
    expect(resolves.length - limited).toBeGreaterThanOrEqual(100);
    const store = openStore({ path: ws.dbPath, readonly: true });
    try {
      expect(getRateBudget(store, 'resolvers')).toBeNull();
      expect(recentEvents(store, { kinds: ['throttle'], limit: 10 }).length).toBeGreaterThan(0);
    } finally {
      store.close();
    }
  }, 180_000);
});

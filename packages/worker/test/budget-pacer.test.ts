import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { claimRateBudget, getRateBudget, openStore, type RateWindow } from '@hfhpc/core';
import { createBudgetPacer, type BudgetTable } from '../src/budget-pacer.js';

/** The store's rate_budget row in a real SQLite file, reached as the worker does (writeAsync). */
function storeTable(): BudgetTable & { row(): RateWindow | null; claims: number } {
  const dir = mkdtempSync(join(tmpdir(), 'hfhpc-pacer-'));
  const store = openStore({ path: join(dir, 'state.sqlite'), busyTimeoutMs: 5 });
  cleanups.push(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const t = {
    claims: 0,
    row: () => getRateBudget(store, 'resolvers'),
    claim(seen: RateWindow | null, want: number, unclaimed: number) {
      t.claims++;
      return store.writeAsync(() => claimRateBudget(store, { bucket: 'resolvers', seen, want, unclaimed }));
    },
  };
  return t;
}

/** A fixed-window server (windows aligned on the epoch, like fakehub) counting every request. */
function fixedWindowServer(quota: number, windowS: number) {
  const counts = new Map<number, number>();
  let exceeded = 0;
  return {
    get exceeded() {
      return exceeded;
    },
    take(): Record<string, string> {
      const nowS = Date.now() / 1000;
      const win = Math.floor(nowS / windowS);
      const used = (counts.get(win) ?? 0) + 1;
      counts.set(win, used);
      if (used > quota) exceeded++;
      return {
        ratelimit: `"resolvers";r=${Math.max(0, quota - used)};t=${Math.max(1, Math.ceil((win + 1) * windowS - nowS))}`,
        'ratelimit-policy': `"fixed window";"resolvers";q=${quota};w=${windowS}`,
      };
    },
    windowsUsed: () => [...counts.values()],
  };
}

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((f) => f()));

describe('createBudgetPacer', () => {
  it('three tasks sharing one budget never exceed it and use most of each window', async () => {
    const server = fixedWindowServer(12, 2);
    const table = storeTable();
    const pacers = [0, 1, 2].map(() => createBudgetPacer({ table }));
    let sent = 0;
    const total = 45;
    const loop = async (p: (typeof pacers)[number]) => {
      while (sent < total) {
        await p.wait();
        if (sent >= total) return;
        sent++;
        p.observe(server.take());
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    const started = Date.now();
    await Promise.all(pacers.flatMap((p) => [loop(p), loop(p), loop(p)]));
    expect(server.exceeded).toBe(0);
    expect(pacers.map((p) => p.mode)).toEqual(['claim', 'claim', 'claim']);
    // 45 requests at 11 per 2 s window: at most 5 windows (plus the first partial one).
    expect(server.windowsUsed().length).toBeLessThanOrEqual(6);
    expect(Date.now() - started).toBeLessThan(30_000);
  }, 60_000);

  it('before anyone saw the headers one request goes out at a time; its answer starts the pacing', async () => {
    const table = storeTable();
    const p = createBudgetPacer({ table, probeTimeoutMs: 60_000 });
    await p.wait(); // the probe
    expect(p.mode).toBe('probe');
    let second = false;
    const next = p.wait().then(() => (second = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(second).toBe(false);
    p.observe({ ratelimit: '"resolvers";r=39;t=9', 'ratelimit-policy': '"fixed window";"resolvers";q=40;w=10' });
    await next;
    expect(p.mode).toBe('claim');
    // The probe counted by the Hub, plus one claim: an eighth of the 39 left.
    expect(table.row()).toMatchObject({ quota: 40, used: 1 + 4 });
  });

  it('the Hub sends no headers: nothing is paced after the first answer', async () => {
    const table = storeTable();
    const p = createBudgetPacer({ table, probeTimeoutMs: 60_000 });
    await p.wait();
    const waiting = Promise.all([p.wait(), p.wait(), p.wait()]);
    p.observe({ 'retry-after': '1' });
    await waiting;
    expect(p.mode).toBe('open');
    for (let i = 0; i < 100; i++) await p.wait();
    expect(table.claims).toBe(1);
  });

  it('a failing table lets the request go (unpaced) and reports the error', async () => {
    const errors: unknown[] = [];
    const p = createBudgetPacer({ table: { claim: () => Promise.reject(new Error('database is locked')) }, onError: (e) => errors.push(e) });
    await p.wait();
    expect(errors).toHaveLength(1);
  });

  it('an abort while waiting for the next window rejects at once', async () => {
    const table = storeTable();
    const p = createBudgetPacer({ table });
    p.observe({ ratelimit: '"resolvers";r=0;t=30', 'ratelimit-policy': '"fixed window";"resolvers";q=40;w=60' });
    const ac = new AbortController();
    const w = p.wait(ac.signal);
    setTimeout(() => ac.abort(new Error('stop')), 50);
    await expect(w).rejects.toThrow(/stop|abort/i);
  });
});

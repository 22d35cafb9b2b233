// writeAsync/readAsync: the worker's way to the database. A lock held by another process makes
// them wait on timers (the event loop keeps running), and a database switched to WAL under a
// running task is switched back at its next write, or the task stops with a clear error.
import { afterEach, describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import { InternalError, StateError, claimShard, heartbeat, journalMode, recentEvents, type Store } from '../../src/index.js';
import { addPlan, testDb, type TestDb } from './helpers.js';

let t: TestDb;
afterEach(() => t?.cleanup());

/** Count event-loop turns (a 5 ms interval) while `p` runs. */
async function ticksDuring<T>(p: Promise<T>): Promise<{ value: T; ticks: number }> {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 5);
  try {
    return { value: await p, ticks };
  } finally {
    clearInterval(timer);
  }
}

function worker(): Store {
  return t.open({ busyTimeoutMs: 2 });
}

describe('writeAsync / readAsync', () => {
  it('waits for another connection\'s write lock on timers, then writes', async () => {
    t = testDb();
    const planId = addPlan(t.store, [[10]]);
    const w = worker();
    t.store.db.exec('BEGIN IMMEDIATE');
    const pending = w.writeAsync(() => claimShard(w, { planId, owner: 'w', ttlMs: 60_000 }));
    setTimeout(() => t.store.db.exec('COMMIT'), 200);
    const { value: claim, ticks } = await ticksDuring(pending);
    expect(claim).toMatchObject({ planId, index: 0, owner: 'w' });
    expect(ticks).toBeGreaterThan(3); // the loop ran while the write waited
  });

  it('retries a COMMIT that readers hold up without running the transaction again, and keeps new readers out meanwhile', async () => {
    t = testDb();
    addPlan(t.store, [[10]]);
    const w = worker();
    const reader = t.open({ busyTimeoutMs: 0 });
    const late = t.open({ busyTimeoutMs: 0, busyRetryMs: 100 });
    reader.db.exec('BEGIN');
    reader.db.prepare('SELECT COUNT(*) FROM files').get(); // holds the shared lock
    let runs = 0;
    const pending = w.writeAsync((db) => {
      runs++;
      db.prepare('INSERT INTO throttle (scope, not_before, set_at) VALUES (?, 1, 1)').run(`s${runs}`);
    });
    await new Promise((r) => setTimeout(r, 100));
    // The writer holds the PENDING lock: a new reader is refused rather than starving it.
    expect(() => late.db.prepare('SELECT COUNT(*) FROM plans').get()).toThrow(/locked|busy/i);
    // A synchronous call on the worker's connection would join the open transaction: refused.
    expect(() => w.read(() => 1)).toThrow(InternalError);
    reader.db.exec('COMMIT');
    await pending;
    expect(runs).toBe(1);
    expect(t.store.db.prepare('SELECT scope FROM throttle').pluck().all()).toEqual(['s1']);
    expect(await w.readAsync((db) => db.prepare('SELECT COUNT(*) FROM throttle').pluck().get())).toBe(1);
  });

  it('runs queued calls one at a time, in order, and gives up after the retry bound', async () => {
    t = testDb();
    const w = t.open({ busyTimeoutMs: 1, busyRetryMs: 300 });
    const order: number[] = [];
    await Promise.all([1, 2, 3].map((i) => w.writeAsync(() => order.push(i))));
    expect(order).toEqual([1, 2, 3]);
    t.store.db.exec('BEGIN IMMEDIATE');
    try {
      await expect(w.writeAsync(() => 1)).rejects.toThrow(StateError);
      await expect(w.writeAsync(() => 1)).rejects.toThrow(/stayed locked/);
    } finally {
      t.store.db.exec('COMMIT');
    }
    expect(await w.writeAsync(() => 'after')).toBe('after');
  });
});

describe('the journal mode under a running task', () => {
  it('a database switched to WAL between two writes is switched back by the next one', async () => {
    t = testDb();
    const planId = addPlan(t.store, [[10]]);
    const w = worker();
    const claim = (await w.writeAsync(() => claimShard(w, { planId, owner: 'w', ttlMs: 60_000 })))!;
    const other = new Database(t.path);
    expect(other.pragma('journal_mode = WAL', { simple: true })).toBe('wal');
    other.close();
    const renewed = await w.writeAsync(() => heartbeat(w, claim, { ttlMs: 60_000 }));
    expect(renewed.fence).toBe(claim.fence);
    expect(journalMode(w.db)).toBe('delete');
    expect(recentEvents(w, { kinds: ['journal-reset'] }).map((e) => e.detail)).toEqual([expect.objectContaining({ was: 'wal', now: 'delete' })]);
    // The synchronous path (the CLIs) does the same.
    const again = new Database(t.path);
    again.pragma('journal_mode = WAL');
    again.close();
    t.store.write((db) => db.prepare("INSERT INTO throttle (scope, not_before, set_at) VALUES ('x', 1, 1)").run());
    expect(journalMode(t.store.db)).toBe('delete');
  });

  it('several tasks that all found the WAL switch it back between them', async () => {
    t = testDb();
    addPlan(t.store, [[10]]);
    const tasks = [worker(), worker(), worker()];
    const other = new Database(t.path);
    other.pragma('journal_mode = WAL');
    other.close();
    // Each connection opens the WAL (and keeps it open) as soon as it reads.
    for (const w of tasks) {
      w.db.prepare('SELECT COUNT(*) FROM plans').get();
      expect(journalMode(w.db)).toBe('wal');
    }
    const scopes = await Promise.all(tasks.map((w, i) => w.writeAsync((db) => db.prepare('INSERT INTO throttle (scope, not_before, set_at) VALUES (?, 1, 1)').run(`t${i}`))));
    expect(scopes).toHaveLength(3);
    for (const w of tasks) expect(journalMode(w.db)).toBe('delete');
    expect(t.store.db.prepare('SELECT COUNT(*) FROM throttle').pluck().get()).toBe(3);
  });

  it('many tasks that found the WAL, round after round, each switch it back and go on writing', async () => {
    t = testDb();
    addPlan(t.store, [[10]]);
    const tasks = Array.from({ length: 6 }, () => worker());
    for (let round = 0; round < 5; round++) {
      const other = new Database(t.path, { timeout: 10_000 });
      other.pragma('journal_mode = WAL');
      other.close();
      await Promise.all(
        tasks.map(async (w, i) => {
          for (let k = 0; k < 3; k++) {
            await w.writeAsync((db) => db.prepare('INSERT INTO throttle (scope, not_before, set_at) VALUES (?, 1, 1)').run(`r${round}t${i}k${k}`));
            await w.readAsync((db) => db.prepare('SELECT COUNT(*) FROM plans').get());
          }
        }),
      );
      for (const w of tasks) expect(journalMode(w.db)).toBe('delete');
    }
    expect(t.store.db.prepare('SELECT COUNT(*) FROM throttle').pluck().get()).toBe(5 * 6 * 3);
  });

  it('a task stops with a clear StateError when the process that switched to WAL keeps it open', async () => {
    t = testDb();
    const planId = addPlan(t.store, [[10]]);
    const w = t.open({ busyTimeoutMs: 2, asyncRetry: { maxTotalMs: 500 } });
    const claim = (await w.writeAsync(() => claimShard(w, { planId, owner: 'w', ttlMs: 60_000 })))!;
    const other = new Database(t.path);
    try {
      other.pragma('journal_mode = WAL');
      other.prepare('SELECT COUNT(*) FROM plans').get();
      const err = await w.writeAsync(() => heartbeat(w, claim, { ttlMs: 60_000 })).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StateError);
      expect((err as Error).message).toMatch(/switched to journal mode wal by another process/);
    } finally {
      other.close();
    }
  });
});

describe('writeAsync queue', () => {
  it('runs an urgent call (a heartbeat) before the calls still waiting, after the one under way', async () => {
    t = testDb();
    const w = worker();
    const order: string[] = [];
    t.store.db.exec('BEGIN IMMEDIATE'); // the first call waits for this lock
    const calls = [w.writeAsync(() => order.push('a')), w.writeAsync(() => order.push('b')), w.writeAsync(() => order.push('c'))];
    await new Promise((r) => setTimeout(r, 30));
    calls.push(w.writeAsync(() => order.push('beat'), { urgent: true }));
    t.store.db.exec('COMMIT');
    await Promise.all(calls);
    expect(order).toEqual(['a', 'beat', 'b', 'c']);
  });
});

import { afterEach, describe, expect, it } from '@jest/globals';
import { ProgressBatcher, StaleFenceError, claimShard, markFileDone, shardFiles, type Store } from '../../src/index.js';
import { addPlan, testDb, type TestDb } from './helpers.js';

let t: TestDb;
afterEach(() => t?.cleanup());

/** The store with its write transactions counted. */
function counting(store: Store): { store: Store; writes: () => number } {
  let n = 0;
  const writeAsync = store.writeAsync.bind(store);
  return { store: { ...store, writeAsync: (fn) => (n++, writeAsync(fn)) } as Store, writes: () => n };
}

/** Let a background flush (started by update) finish. */
const settle = () => new Promise((r) => setTimeout(r, 20));

function setup(sizes: number[]) {
  t = testDb();
  const planId = addPlan(t.store, [sizes]);
  const claim = claimShard(t.store, { planId, owner: 'a', ttlMs: 60_000 })!;
  const ids = shardFiles(t.store, claim.shardId).map((f) => f.id);
  const bytes = () => shardFiles(t.store, claim.shardId).map((f) => f.bytesDone);
  return { claim, ids, bytes };
}

describe('ProgressBatcher', () => {
  it('writes nothing until the time threshold, then all files in one transaction', async () => {
    const { claim, ids, bytes } = setup([1e9, 1e9, 1e9]);
    const c = counting(t.store);
    const b = new ProgressBatcher({ store: c.store, claim, flushMs: 5000, flushBytes: 1e12 });
    for (let i = 1; i <= 100; i++) for (const id of ids) b.update(id, i * 1000);
    expect(c.writes()).toBe(0);
    expect(bytes()).toEqual([0, 0, 0]);
    t.clock.t += 5000;
    b.update(ids[0]!, 200_000);
    expect(c.writes()).toBe(1);
    await settle();
    expect(b.flushes).toBe(1);
    expect(bytes()).toEqual([200_000, 100_000, 100_000]);
  });

  it('flushes when enough new bytes arrived, counting only growth', async () => {
    const { claim, ids, bytes } = setup([1e9, 1e9]);
    const c = counting(t.store);
    const b = new ProgressBatcher({ store: c.store, claim, flushMs: 1e9, flushBytes: 1000 });
    b.update(ids[0]!, 600);
    b.update(ids[0]!, 100); // a restart from zero adds nothing
    b.update(ids[1]!, 300);
    expect(c.writes()).toBe(0); // 900 new bytes so far
    b.update(ids[1]!, 400); // 1000
    expect(c.writes()).toBe(1);
    await settle();
    expect(bytes()).toEqual([100, 400]);
    b.update(ids[1]!, 1300);
    expect(c.writes()).toBe(1); // 900 since the flush
    b.update(ids[0]!, 200);
    expect(c.writes()).toBe(2);
    await settle();
  });

  it('flush() and close() write what is pending, and nothing when nothing is new', async () => {
    const { claim, ids, bytes } = setup([500, 500]);
    const c = counting(t.store);
    const b = new ProgressBatcher({ store: c.store, claim });
    await b.flush();
    expect(c.writes()).toBe(0);
    b.update(ids[0]!, 10);
    await b.flush();
    b.update(ids[1]!, 20);
    await b.close();
    expect(c.writes()).toBe(2);
    expect(bytes()).toEqual([10, 20]);
  });

  it('never overwrites a done file, and drops forgotten files', async () => {
    const { claim, ids, bytes } = setup([500, 500]);
    const b = new ProgressBatcher({ store: t.store, claim });
    b.update(ids[0]!, 400);
    b.update(ids[1]!, 300);
    b.forget(ids[1]!);
    markFileDone(t.store, claim, { fileId: ids[0]! });
    await b.flush();
    expect(bytes()).toEqual([500, 0]);
  });

  it('reports a lost lease from an automatic flush to onError and throws it on close', async () => {
    const { claim, ids, bytes } = setup([500]);
    const errors: unknown[] = [];
    const b = new ProgressBatcher({ store: t.store, claim, flushMs: 1000, onError: (e) => errors.push(e) });
    t.clock.t += 60_000;
    claimShard(t.store, { planId: claim.planId, owner: 'thief', ttlMs: 60_000 });
    b.update(ids[0]!, 123);
    await settle();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(StaleFenceError);
    expect(bytes()).toEqual([0]);
    b.update(ids[0]!, 456); // ignored after the failure
    await expect(b.close()).rejects.toThrow(StaleFenceError);
    expect(bytes()).toEqual([0]);
  });
});

describe('ProgressBatcher under a held lock', () => {
  it('update() returns at once while another connection holds the write lock; the flush lands after it lets go', async () => {
    const { claim, ids } = setup([1e6]);
    t.store.close();
    const worker = t.open({ busyTimeoutMs: 2 });
    const other = t.open();
    const b = new ProgressBatcher({ store: worker, claim, flushMs: 0 });
    other.db.exec('BEGIN IMMEDIATE');
    const started = Date.now();
    b.update(ids[0]!, 777);
    // The event loop is free: a timer fires while the write waits for the lock.
    await new Promise((r) => setTimeout(r, 150));
    expect(Date.now() - started).toBeLessThan(5_000);
    other.db.exec('COMMIT');
    await b.close();
    expect(shardBytes(other, claim.shardId)).toEqual([777]);
  });
});

function shardBytes(store: Store, shardId: number): number[] {
  return shardFiles(store, shardId).map((f) => f.bytesDone);
}

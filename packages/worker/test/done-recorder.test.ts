import { afterEach, describe, expect, it } from '@jest/globals';
import { claimShard, openStore, shardFiles, StaleFenceError } from '@hfhpc/core';
import { DoneRecorder } from '../src/done-recorder.js';
import { planFixture, type PlanFixture } from './helpers/plan-fixture.js';

let fx: PlanFixture | undefined;
afterEach(() => {
  fx?.cleanup();
  fx = undefined;
});

const files = (n: number) => Array.from({ length: n }, (_, i) => ({ repo: 'bigcode/a', path: `f${i}.bin`, content: Buffer.alloc(10 + i) }));
const states = (f: PlanFixture) => f.store.read((db) => db.prepare('SELECT state, attempts, last_error AS err FROM files ORDER BY id').all());

describe('DoneRecorder', () => {
  it('writes done and failed files in one background batch; done()/failed() return while another process holds the lock', async () => {
    fx = planFixture(files(3));
    const worker = openStore({ path: fx.dbPath, busyTimeoutMs: 2 });
    try {
      const claim = claimShard(worker, { planId: fx.planId, owner: 'w', ttlMs: 60_000 })!;
      const ids = shardFiles(worker, claim.shardId).map((f) => f.id);
      const rec = new DoneRecorder({ store: worker, claim: () => claim, maxBatch: 3 });
      fx.store.db.exec('BEGIN IMMEDIATE'); // another process writing
      rec.done(ids[0]!, 10);
      rec.failed(ids[1]!, 'HTTP 500 after 5 attempts');
      rec.done(ids[2]!, 12); // the batch is full: its write starts, and waits on timers
      expect(rec.pending).toBe(0);
      await new Promise((r) => setTimeout(r, 100));
      expect(states(fx)).toEqual([
        { state: 'pending', attempts: 0, err: null },
        { state: 'pending', attempts: 0, err: null },
        { state: 'pending', attempts: 0, err: null },
      ]);
      fx.store.db.exec('COMMIT');
      await rec.flush();
      expect(states(fx)).toEqual([
        { state: 'done', attempts: 0, err: null },
        { state: 'failed', attempts: 1, err: 'HTTP 500 after 5 attempts' },
        { state: 'done', attempts: 0, err: null },
      ]);
    } finally {
      worker.close();
    }
  });

  it('hands a lost lease from a background write to onError and throws it from the next call', async () => {
    fx = planFixture(files(2));
    const claim = claimShard(fx.store, { planId: fx.planId, owner: 'w', ttlMs: 1 })!;
    const ids = shardFiles(fx.store, claim.shardId).map((f) => f.id);
    await new Promise((r) => setTimeout(r, 5));
    claimShard(fx.store, { planId: fx.planId, owner: 'thief', ttlMs: 60_000 });
    const errors: unknown[] = [];
    const rec = new DoneRecorder({ store: fx.store, claim: () => claim, maxBatch: 1, onError: (e) => errors.push(e) });
    rec.done(ids[0]!, 10);
    await new Promise((r) => setTimeout(r, 50));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(StaleFenceError);
    expect(() => rec.done(ids[1]!, 11)).toThrow(StaleFenceError);
    await expect(rec.flush()).rejects.toThrow(StaleFenceError);
    expect(states(fx).map((s) => (s as { state: string }).state)).toEqual(['pending', 'pending']);
  });
});

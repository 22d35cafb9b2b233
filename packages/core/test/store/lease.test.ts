import { afterEach, describe, expect, it } from '@jest/globals';
import {
  LeaseLostError,
  StaleFenceError,
  UsageError,
  claimShard,
  expireLeases,
  finishShard,
  heartbeat,
  leaseOwner,
  listShards,
  markFileDone,
  markFileFailed,
  markFileRunning,
  recentEvents,
  releaseLease,
  shardFiles,
  type Claim,
} from '../../src/index.js';
import { addPlan, testDb, type TestDb } from './helpers.js';

let t: TestDb;
afterEach(() => t?.cleanup());

const TTL = 1000;
const claim = (planId: number, owner: string, extra: { preferIndex?: number; steal?: boolean } = {}) =>
  claimShard(t.store, { planId, owner, ttlMs: TTL, ...extra });
const shard = (planId: number, index: number) => listShards(t.store, planId)[index]!;

describe('claimShard', () => {
  it('takes the own index first, then the largest pending shard, then expired ones', () => {
    t = testDb();
    const planId = addPlan(t.store, [[10], [30], [20]]);
    const a = claim(planId, 'a', { preferIndex: 2 })!;
    expect(a).toMatchObject({ index: 2, fence: 1, owner: 'a', planId, expiresAt: t.clock.t + TTL });
    t.clock.t += 1;
    expect(claim(planId, 'b', { preferIndex: 2 })!.index).toBe(1); // own is taken: largest pending
    t.clock.t += 1;
    expect(claim(planId, 'c')!.index).toBe(0);
    expect(claim(planId, 'd')).toBeNull(); // all leased and live

    t.clock.t += TTL; // every lease now expired
    const e = claim(planId, 'e')!;
    expect(e.index).toBe(2); // the longest-expired (earliest expiry)
    expect(e.fence).toBe(2);
    expect(shard(planId, 2)).toMatchObject({ attempts: 2, state: 'running', owner: 'e', fence: 2 });
    const kinds = recentEvents(t.store, { kinds: ['claim'] }).map((ev) => (ev.detail as { via: string }).via);
    expect(kinds).toEqual(['own', 'pending', 'pending', 'expired']);
    expect(recentEvents(t.store, { kinds: ['claim'] })[3]!.detail).toMatchObject({ previousOwner: 'a', fence: 2 });
  });

  it('takes back its own index once that lease expired, before anything pending', () => {
    t = testDb();
    const planId = addPlan(t.store, [[10], [30]]);
    claim(planId, 'old', { preferIndex: 0 });
    t.clock.t += TTL + 1;
    const again = claim(planId, 'new', { preferIndex: 0 })!;
    expect(again).toMatchObject({ index: 0, fence: 2, owner: 'new' });
  });

  it('with steal off, only ever takes the own index', () => {
    t = testDb();
    const planId = addPlan(t.store, [[10], [30]]);
    expect(claim(planId, 'a', { steal: false })).toBeNull();
    expect(claim(planId, 'a', { preferIndex: 0, steal: false })!.index).toBe(0);
    expect(claim(planId, 'b', { preferIndex: 0, steal: false })).toBeNull();
    t.clock.t += TTL;
    expect(claim(planId, 'b', { preferIndex: 1, steal: false })!.index).toBe(1);
    expect(claim(planId, 'c', { preferIndex: 5, steal: false })).toBeNull();
  });

  it('never hands out done or failed shards, and only shards of the given plan', () => {
    t = testDb();
    const planId = addPlan(t.store, [[], [1]]); // shard 0 has no files: done from the start
    const other = addPlan(t.store, [[5]]);
    expect(shard(planId, 0).state).toBe('done');
    const c = claim(planId, 'a')!;
    expect(c.index).toBe(1);
    markFileFailed(t.store, c, { fileId: shardFiles(t.store, c.shardId)[0]!.id, error: 'HTTP 404' });
    finishShard(t.store, c);
    expect(claim(planId, 'a')).toBeNull();
    expect(claim(other, 'a')!.planId).toBe(other);
  });

  it('rejects a non-positive ttl', () => {
    t = testDb();
    const planId = addPlan(t.store, [[1]]);
    expect(() => claimShard(t.store, { planId, owner: 'a', ttlMs: 0 })).toThrow(UsageError);
  });
});

describe('heartbeat', () => {
  it('extends the lease while it is held, even just after expiry if nobody took it', () => {
    t = testDb();
    const planId = addPlan(t.store, [[1]]);
    const c = claim(planId, 'a')!;
    t.clock.t += TTL + 50;
    const renewed = heartbeat(t.store, c, { ttlMs: TTL });
    expect(renewed.expiresAt).toBe(t.clock.t + TTL);
    expect(renewed.fence).toBe(c.fence);
    expect(shard(planId, 0)).toMatchObject({ leaseExpiresAt: t.clock.t + TTL, heartbeatAt: t.clock.t });
  });

  it('raises LeaseLostError once another owner claimed the shard, or the lease is gone', () => {
    t = testDb();
    const planId = addPlan(t.store, [[1], [2]]);
    const c = claim(planId, 'a', { preferIndex: 0 })!;
    t.clock.t += TTL;
    const stolen = claim(planId, 'b', { preferIndex: 0 })!;
    expect(stolen.fence).toBe(c.fence + 1);
    expect(() => heartbeat(t.store, c, { ttlMs: TTL })).toThrow(LeaseLostError);
    expect(() => heartbeat(t.store, c, { ttlMs: TTL })).toThrow(/now held by b/);
    heartbeat(t.store, stolen, { ttlMs: TTL }); // the new owner is fine

    const d = claim(planId, 'd', { preferIndex: 1 })!;
    t.clock.t += 2 * TTL;
    expireLeases(t.store);
    expect(() => heartbeat(t.store, d, { ttlMs: TTL })).toThrow(LeaseLostError);
  });
});

describe('releaseLease', () => {
  it('puts the shard back to pending, drops the lease, resets running files and fences the old claim', () => {
    t = testDb();
    const planId = addPlan(t.store, [[1, 2]]);
    const c = claim(planId, 'a')!;
    const [f1] = shardFiles(t.store, c.shardId);
    markFileRunning(t.store, c, { fileId: f1!.id });
    releaseLease(t.store, c, { reason: 'SIGTERM' });
    expect(shard(planId, 0)).toMatchObject({ state: 'pending', owner: null, attempts: 1 });
    expect(shardFiles(t.store, c.shardId).map((f) => f.state)).toEqual(['pending', 'pending']);
    expect(recentEvents(t.store, { kinds: ['release'] })[0]).toMatchObject({ owner: 'a', detail: { reason: 'SIGTERM' } });
    expect(() => markFileDone(t.store, c, { fileId: f1!.id })).toThrow(StaleFenceError);
    expect(() => releaseLease(t.store, c)).toThrow(StaleFenceError);
    expect(claim(planId, 'b')!.fence).toBe(c.fence + 2); // release raised it once, the claim once more
  });
});

describe('finishShard', () => {
  function setup(): { planId: number; c: Claim; ids: number[] } {
    const planId = addPlan(t.store, [[5, 6, 7]]);
    const c = claim(planId, 'a')!;
    return { planId, c, ids: shardFiles(t.store, c.shardId).map((f) => f.id) };
  }

  it('marks the shard done when every file is done', () => {
    t = testDb();
    const { planId, c, ids } = setup();
    for (const id of ids) markFileDone(t.store, c, { fileId: id });
    expect(finishShard(t.store, c)).toEqual({ state: 'done', filesDone: 3, filesFailed: 0, filesLeft: 0, lastError: null });
    expect(shard(planId, 0)).toMatchObject({ state: 'done', owner: null, bytesDone: 18, lastError: null });
    expect(() => markFileDone(t.store, c, { fileId: ids[0]! })).toThrow(StaleFenceError);
  });

  it('marks it failed with the last error when any file failed', () => {
    t = testDb();
    const { planId, c, ids } = setup();
    markFileDone(t.store, c, { fileId: ids[0]! });
    markFileFailed(t.store, c, { fileId: ids[1]!, error: 'sha256 mismatch' });
    markFileDone(t.store, c, { fileId: ids[2]! });
    const r = finishShard(t.store, c);
    expect(r).toMatchObject({ state: 'failed', filesDone: 2, filesFailed: 1 });
    expect(r.lastError).toContain('data/s0/f1.bin: sha256 mismatch');
    expect(shard(planId, 0)).toMatchObject({ state: 'failed', lastError: r.lastError, filesFailed: 1 });
  });

  it('puts it back to pending when files are left, so another claim picks them up', () => {
    t = testDb();
    const { planId, c, ids } = setup();
    markFileDone(t.store, c, { fileId: ids[0]! });
    markFileRunning(t.store, c, { fileId: ids[1]! });
    expect(finishShard(t.store, c)).toMatchObject({ state: 'pending', filesLeft: 2 });
    expect(claim(planId, 'b')!.index).toBe(0);
  });
});

describe('expireLeases', () => {
  it('removes only leases past expiry, returns them, and fences their holders', () => {
    t = testDb();
    const planId = addPlan(t.store, [[1], [2]]);
    const a = claim(planId, 'a', { preferIndex: 0 })!;
    t.clock.t += TTL / 2;
    const b = claim(planId, 'b', { preferIndex: 1 })!;
    t.clock.t += TTL / 2; // a expired, b has TTL/2 left
    const expired = expireLeases(t.store);
    expect(expired).toEqual([{ shardId: a.shardId, planId, index: 0, owner: 'a', fence: a.fence, expiresAt: a.expiresAt }]);
    expect(listShards(t.store, planId).map((s) => [s.state, s.owner])).toEqual([
      ['pending', null],
      ['running', 'b'],
    ]);
    expect(() => markFileDone(t.store, a, { fileId: shardFiles(t.store, a.shardId)[0]!.id })).toThrow(StaleFenceError);
    expect(recentEvents(t.store, { kinds: ['expire'] })).toHaveLength(1);
    expect(expireLeases(t.store)).toEqual([]);
    heartbeat(t.store, b, { ttlMs: TTL });
  });
});

describe('leaseOwner', () => {
  it('names the array task, host and pid', () => {
    expect(leaseOwner({ env: { SLURM_ARRAY_JOB_ID: '991', SLURM_ARRAY_TASK_ID: '7', SLURM_JOB_ID: '998' }, host: 'n01', pid: 42 })).toBe('991_7@n01:42');
    expect(leaseOwner({ env: { SLURM_JOB_ID: '998' }, host: 'n01', pid: 42 })).toBe('998@n01:42');
    expect(leaseOwner({ env: {}, host: 'laptop', pid: 1 })).toBe('local@laptop:1');
    expect(leaseOwner()).toMatch(new RegExp(`@.+:${process.pid}$`));
  });
});

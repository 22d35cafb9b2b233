import { afterEach, describe, expect, it } from '@jest/globals';
import {
  InternalError,
  StaleFenceError,
  claimShard,
  finishShard,
  listShards,
  markFileDone,
  markFileFailed,
  markFileRunning,
  recentEvents,
  resetFile,
  shardFiles,
} from '../../src/index.js';
import { addPlan, testDb, type TestDb } from './helpers.js';

let t: TestDb;
afterEach(() => t?.cleanup());

describe('fenced file writes', () => {
  it('record running, done and failed for the claim holder', () => {
    t = testDb();
    const planId = addPlan(t.store, [[100, 200, 300]]);
    const c = claimShard(t.store, { planId, owner: 'a', ttlMs: 1000 })!;
    const [f1, f2, f3] = shardFiles(t.store, c.shardId);
    markFileRunning(t.store, c, { fileId: f1!.id });
    markFileDone(t.store, c, { fileId: f2!.id });
    markFileDone(t.store, c, { fileId: f3!.id, bytes: 299 });
    markFileFailed(t.store, c, { fileId: f1!.id, error: 'x'.repeat(5000) });
    markFileFailed(t.store, c, { fileId: f1!.id, error: 'HTTP 404 EntryNotFound' });
    const files = shardFiles(t.store, c.shardId);
    expect(files.map((f) => [f.state, f.bytesDone, f.attempts])).toEqual([
      ['failed', 0, 2],
      ['done', 200, 0],
      ['done', 299, 0],
    ]);
    expect(files[0]!.lastError).toBe('HTTP 404 EntryNotFound');
    expect(recentEvents(t.store, { kinds: ['file-failed'] })[0]!.detail).toEqual({ error: 'x'.repeat(2000) });
  });

  it('are refused with StaleFenceError and write nothing once the shard was claimed again', () => {
    t = testDb();
    const planId = addPlan(t.store, [[100, 200]]);
    const old = claimShard(t.store, { planId, owner: 'old', ttlMs: 1000 })!;
    const [f1, f2] = shardFiles(t.store, old.shardId);
    markFileRunning(t.store, old, { fileId: f1!.id });
    t.clock.t += 1000;
    const fresh = claimShard(t.store, { planId, owner: 'new', ttlMs: 1000 })!;
    markFileDone(t.store, fresh, { fileId: f2!.id });
    const before = t.store.db.prepare('SELECT * FROM files ORDER BY id').all();
    const eventsBefore = recentEvents(t.store).length;
    for (const write of [
      () => markFileRunning(t.store, old, { fileId: f1!.id }),
      () => markFileDone(t.store, old, { fileId: f1!.id }),
      () => markFileFailed(t.store, old, { fileId: f2!.id, error: 'late' }),
      () => finishShard(t.store, old),
    ]) {
      expect(write).toThrow(StaleFenceError);
    }
    expect(t.store.db.prepare('SELECT * FROM files ORDER BY id').all()).toEqual(before);
    expect(recentEvents(t.store)).toHaveLength(eventsBefore);
    expect(listShards(t.store, planId)[0]).toMatchObject({ owner: 'new', state: 'running' });
  });

  it('refuse a file of another shard as a bug', () => {
    t = testDb();
    const planId = addPlan(t.store, [[1], [2]]);
    const c = claimShard(t.store, { planId, owner: 'a', ttlMs: 1000, preferIndex: 0 })!;
    const other = listShards(t.store, planId)[1]!;
    const foreign = shardFiles(t.store, other.id)[0]!;
    expect(() => markFileDone(t.store, c, { fileId: foreign.id })).toThrow(InternalError);
    expect(shardFiles(t.store, other.id)[0]!.state).toBe('pending');
  });
});

describe('resetFile', () => {
  it('sends a done file back to pending and reopens its finished shard', () => {
    t = testDb();
    const planId = addPlan(t.store, [[10, 20]]);
    const c = claimShard(t.store, { planId, owner: 'a', ttlMs: 1000 })!;
    const ids = shardFiles(t.store, c.shardId).map((f) => f.id);
    for (const id of ids) markFileDone(t.store, c, { fileId: id });
    expect(finishShard(t.store, c).state).toBe('done');

    resetFile(t.store, { fileId: ids[1]!, reason: 'verify: sha256 mismatch' });
    expect(shardFiles(t.store, c.shardId)[1]).toMatchObject({ state: 'pending', bytesDone: 0, lastError: 'verify: sha256 mismatch' });
    expect(listShards(t.store, planId)[0]).toMatchObject({ state: 'pending', lastError: null });
    expect(recentEvents(t.store, { kinds: ['file-reset'] })).toHaveLength(1);
    const again = claimShard(t.store, { planId, owner: 'b', ttlMs: 1000 })!;
    expect(again.fence).toBe(c.fence + 2);
    expect(() => resetFile(t.store, { fileId: 9999 })).toThrow(InternalError);
  });
});

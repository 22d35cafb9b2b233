// The store's named reads and writes that replaced SQL in other packages: resolving "the newest
// plan or plan N", a plan's stored defaults, failed shards, the newest plan's needed blobs, event
// pruning with kept kinds, a plan's and a dataset's file lists, doctor's raw inspection, and the
// fence check as a store call. Real SQLite files throughout.
import { afterEach, describe, expect, it } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import {
  appendEvent,
  assertClaimFence,
  claimShard,
  countPrunableEvents,
  createPlan,
  datasetTreeFiles,
  failedShardIndices,
  findPlan,
  finishShard,
  inspectDatabase,
  LATEST_SCHEMA_VERSION,
  listShards,
  markFileDone,
  markFileFailed,
  neededBlobs,
  planDefaults,
  pruneEvents,
  readPlanFiles,
  recentEvents,
  releaseLease,
  resetFailedShards,
  resolvePlan,
  shardFiles,
  StaleFenceError,
  StateError,
} from '../../src/index.js';
import { addPlan, makePlan, testDb, type TestDb } from './helpers.js';

let t: TestDb | undefined;
afterEach(() => {
  t?.cleanup();
  t = undefined;
});

describe('resolvePlan / findPlan', () => {
  it('resolve the newest plan or plan N, and say which is missing', () => {
    t = testDb();
    expect(findPlan(t.store)).toBeNull();
    expect(() => resolvePlan(t!.store)).toThrow(new StateError(`no plan in ${t.path}`));
    try {
      resolvePlan(t.store);
    } catch (err) {
      expect(err).toMatchObject({ exitCode: 1, hint: 'run `hfhpc plan --manifest <file>` first' });
    }
    const first = addPlan(t.store, [[10]]);
    const second = addPlan(t.store, [[20]]);
    expect(resolvePlan(t.store).id).toBe(second);
    expect(resolvePlan(t.store, first).id).toBe(first);
    expect(findPlan(t.store, 99)).toBeNull();
    try {
      resolvePlan(t.store, 99, { missing: 'pick another' });
      throw new Error('resolved a plan that does not exist');
    } catch (err) {
      expect(err).toBeInstanceOf(StateError);
      expect(err).toMatchObject({ message: `no plan 99 in ${t.path}`, hint: 'pick another', exitCode: 1 });
    }
  });

  it('planDefaults: the stored root and hub URL of the newest plan or plan N', () => {
    t = testDb();
    expect(planDefaults(t.store)).toBeUndefined();
    const first = createPlan(t.store, { ...makePlan({ shardBytes: [[1]] }), root: '/a', hubUrl: 'http://127.0.0.1:2' });
    const second = createPlan(t.store, { ...makePlan({ shardBytes: [[1]] }), root: '/b', hubUrl: 'http://127.0.0.1:3' });
    expect(planDefaults(t.store)).toEqual({ planId: second, root: '/b', hubUrl: 'http://127.0.0.1:3' });
    expect(planDefaults(t.store, first)).toEqual({ planId: first, root: '/a', hubUrl: 'http://127.0.0.1:2' });
    expect(planDefaults(t.store, 42)).toBeUndefined();
  });
});

describe('failed shards', () => {
  it('lists them, and resets them and their failed files (not their done ones) in one write', () => {
    t = testDb();
    const planId = addPlan(t.store, [[10, 10], [10], [10]]);
    const fail = (index: number) => {
      const c = claimShard(t!.store, { planId, owner: `o${index}`, preferIndex: index, ttlMs: 60_000 })!;
      const files = shardFiles(t!.store, c.shardId);
      markFileDone(t!.store, c, { fileId: files[0]!.id });
      for (const f of files.slice(1)) markFileFailed(t!.store, c, { fileId: f.id, error: 'HTTP 500' });
      if (files.length === 1) {
        releaseLease(t!.store, c, { reason: 'test' });
        return;
      }
      expect(finishShard(t!.store, c).state).toBe('failed');
    };
    fail(0);
    fail(2); // one file, done: shard 2 is not failed
    expect(failedShardIndices(t.store, planId)).toEqual([0]);
    expect(resetFailedShards(t.store, planId)).toEqual([0]);
    const s0 = listShards(t.store, planId).find((s) => s.index === 0)!;
    expect(s0).toMatchObject({ state: 'pending', lastError: null });
    expect(shardFiles(t.store, s0.id).map((f) => f.state)).toEqual(['done', 'pending']);
    expect(recentEvents(t.store, { kinds: ['resubmit-failed'] })).toMatchObject([{ planId, detail: { shards: [0], files: 1 } }]);
    expect(failedShardIndices(t.store, planId)).toEqual([]);
    expect(resetFailedShards(t.store, planId)).toEqual([]);
  });
});

describe('newest plan reads', () => {
  it('neededBlobs: the not-done blobs of the newest plan only, each once with its repo', () => {
    t = testDb();
    createPlan(t.store, makePlan({ shardBytes: [[5]], repo: 'org/old' }));
    const plan = makePlan({ shardBytes: [[5, 6, 7]], repo: 'org/new', done: (_s, i) => i === 2 });
    plan.files[1] = { ...plan.files[1]!, blob: plan.files[0]!.blob }; // two paths, one blob
    createPlan(t.store, plan);
    expect(neededBlobs(t.store)).toEqual([{ repo: 'org/new', blob: plan.files[0]!.blob }]);
  });

  it('inspectDatabase: journal mode, quick_check, schema, bytes left (a shared blob once, done files not) and defaults, without the store', () => {
    t = testDb();
    expect(inspectDatabase(join(t.dir, 'missing.sqlite'))).toBeUndefined();
    const plan = makePlan({ shardBytes: [[100, 100, 50]] });
    plan.files[1] = { ...plan.files[1]!, blob: plan.files[0]!.blob };
    const planId = createPlan(t.store, plan);
    const c = claimShard(t.store, { planId, owner: 'o', ttlMs: 60_000 })!;
    const files = shardFiles(t.store, c.shardId);
    markFileDone(t.store, c, { fileId: files.find((f) => f.size === 50)!.id });
    const db = inspectDatabase(t.path)!;
    try {
      expect(db.journalMode()).toBe('delete');
      expect(db.quickCheck()).toEqual(['ok']);
      expect(db.schema()).toEqual({ version: LATEST_SCHEMA_VERSION, plans: 1 });
      expect(db.newestPlanBytesLeft()).toBe(100);
      expect(db.planDefaults()).toEqual({ planId, root: '/root', hubUrl: 'http://127.0.0.1:1' });
    } finally {
      db.close();
    }
  });

  it('inspectDatabase on a SQLite file that is not ours: no schema, no plans, no defaults', () => {
    t = testDb();
    const other = join(t.dir, 'other.sqlite');
    const raw = new Database(other);
    raw.exec('CREATE TABLE x (a INTEGER)');
    raw.close();
    const db = inspectDatabase(other)!;
    try {
      expect(db.schema()).toEqual({ version: null, plans: 0 });
      expect(db.planDefaults()).toBeUndefined();
      expect(() => db.newestPlanBytesLeft()).toThrow();
    } finally {
      db.close();
    }
    const junk = join(t.dir, 'junk.sqlite');
    writeFileSync(junk, 'not a database at all, just text that is long enough to have a header');
    const j = inspectDatabase(junk)!;
    try {
      expect(() => j.journalMode()).toThrow();
    } finally {
      j.close();
    }
  });
});

describe('events, files, fence', () => {
  it('pruneEvents keeps the kinds asked for; countPrunableEvents counts what it would delete', () => {
    t = testDb();
    for (const kind of ['claim', 'verified', 'release']) appendEvent(t.store, { kind });
    t.clock.t += 10_000;
    appendEvent(t.store, { kind: 'claim' });
    const params = { before: t.clock.t - 1, keepKinds: ['verified'] };
    expect(countPrunableEvents(t.store, params)).toBe(2);
    expect(pruneEvents(t.store, params)).toBe(2);
    expect(recentEvents(t.store).map((e) => e.kind).sort()).toEqual(['claim', 'verified']);
    expect(pruneEvents(t.store, { before: t.clock.t + 1 })).toBe(2);
  });

  it('readPlanFiles and datasetTreeFiles list a plan per repo and path, and one dataset as its tree', () => {
    t = testDb();
    const plan = makePlan({ shardBytes: [[3, 4]], done: (_s, i) => i === 0 });
    plan.files[1] = { ...plan.files[1]!, lfsSha256: 'e'.repeat(64), blob: 'e'.repeat(64) };
    const planId = createPlan(t.store, plan);
    const byRepo = readPlanFiles(t.store, planId);
    expect([...byRepo.keys()]).toEqual(['bigcode/tiny']);
    expect(byRepo.get('bigcode/tiny')!.get(plan.files[0]!.path)).toEqual({ blob: plan.files[0]!.blob, state: 'done' });
    expect(byRepo.get('bigcode/tiny')!.get(plan.files[1]!.path)).toEqual({ blob: 'e'.repeat(64), state: 'pending' });
    expect(readPlanFiles(t.store, planId + 1).size).toBe(0);
    const datasetId = shardFiles(t.store, listShards(t.store, planId)[0]!.id)[0]!.datasetId;
    expect(datasetTreeFiles(t.store, datasetId).sort((a, b) => a.size - b.size)).toEqual([
      { path: plan.files[0]!.path, size: 3, oid: plan.files[0]!.oid, lfsSha256: null },
      { path: plan.files[1]!.path, size: 4, oid: plan.files[1]!.oid, lfsSha256: 'e'.repeat(64) },
    ]);
  });

  it('assertClaimFence passes for the live claim and refuses a stale one inside the caller\'s write', () => {
    t = testDb();
    const planId = addPlan(t.store, [[1]]);
    const first = claimShard(t.store, { planId, owner: 'a', ttlMs: 60_000 })!;
    expect(() => t!.store.write(() => assertClaimFence(t!.store, first))).not.toThrow();
    releaseLease(t.store, first, { reason: 'test' });
    const second = claimShard(t.store, { planId, owner: 'b', ttlMs: 60_000 })!;
    expect(() => t!.store.write(() => assertClaimFence(t!.store, first))).toThrow(StaleFenceError);
    expect(() => t!.store.write(() => assertClaimFence(t!.store, second))).not.toThrow();
  });
});

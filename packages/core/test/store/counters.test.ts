// The counters of schema version 2 (shard_progress, dataset_progress, done_rate) must always
// equal what a pass over the files gives, whatever path changed the files.
import { afterEach, describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import {
  claimShard, createPlan, expireLeases, finishShard, listShards, markFileDone, markFileFailed, markFileRunning, migrate, migrations, openStore,
  planProgress, releaseLease, resetFile, shardFiles, ProgressBatcher, type Store,
} from '../../src/index.js';
import { makePlan, testDb, type TestDb } from './helpers.js';

let t: TestDb;
afterEach(() => t?.cleanup());

const PER_FILE = `CASE WHEN state = 'done' THEN size ELSE MIN(bytes_done, size) END`;
const SUMS = `COUNT(*) AS files, SUM(size) AS bytes, SUM(state = 'done') AS files_done, SUM(state = 'failed') AS files_failed,
  SUM(state = 'running') AS files_running, SUM(${PER_FILE}) AS bytes_done`;

/** The counters as stored, and as recomputed from the files: they must be equal. */
function both(store: Store): { stored: unknown; recomputed: unknown } {
  return store.read((db) => ({
    stored: {
      shards: db.prepare('SELECT shard_id AS id, files, bytes, files_done, files_failed, files_running, bytes_done FROM shard_progress ORDER BY shard_id').all(),
      datasets: db.prepare('SELECT dataset_id AS id, files, bytes, files_done, files_failed, files_running, bytes_done FROM dataset_progress ORDER BY dataset_id').all(),
    },
    recomputed: {
      shards: db.prepare(`SELECT s.id, COALESCE(x.files, 0) AS files, COALESCE(x.bytes, 0) AS bytes, COALESCE(x.files_done, 0) AS files_done,
        COALESCE(x.files_failed, 0) AS files_failed, COALESCE(x.files_running, 0) AS files_running, COALESCE(x.bytes_done, 0) AS bytes_done
        FROM shards s LEFT JOIN (SELECT shard_id, ${SUMS} FROM files GROUP BY shard_id) x ON x.shard_id = s.id ORDER BY s.id`).all(),
      datasets: db.prepare(`SELECT d.id, COALESCE(x.files, 0) AS files, COALESCE(x.bytes, 0) AS bytes, COALESCE(x.files_done, 0) AS files_done,
        COALESCE(x.files_failed, 0) AS files_failed, COALESCE(x.files_running, 0) AS files_running, COALESCE(x.bytes_done, 0) AS bytes_done
        FROM datasets d LEFT JOIN (SELECT dataset_id, ${SUMS} FROM files GROUP BY dataset_id) x ON x.dataset_id = d.id ORDER BY d.id`).all(),
    },
  }));
}

function expectConsistent(store: Store): void {
  const { stored, recomputed } = both(store);
  expect(stored).toEqual(recomputed);
}

describe('progress counters', () => {
  it('follow every change a plan, a worker, verify and cleanup make to the files', async () => {
    t = testDb();
    const planId = createPlan(t.store, makePlan({ shardBytes: [[100, 200, 300], [400, 500], [600]], done: (s, i) => s === 1 && i === 0 }));
    expectConsistent(t.store);
    const shards = listShards(t.store, planId);
    expect(shards.map((s) => [s.filesDone, s.bytesDone])).toEqual([[0, 0], [1, 400], [0, 0]]);

    const c0 = claimShard(t.store, { planId, owner: 'a', preferIndex: 0, ttlMs: 60_000 })!;
    const f0 = shardFiles(t.store, c0.shardId).map((f) => f.id);
    markFileRunning(t.store, c0, { fileId: f0[0]! });
    expectConsistent(t.store);
    const batcher = new ProgressBatcher({ store: t.store, claim: c0 });
    batcher.update(f0[0]!, 50);
    batcher.update(f0[1]!, 999); // more than the size: counted as the size at most
    await batcher.flush();
    expectConsistent(t.store);
    await t.store.writeAsync(() => markFileDone(t.store, c0, { fileId: f0[0]! }));
    markFileFailed(t.store, c0, { fileId: f0[2]!, error: 'boom' });
    expectConsistent(t.store);
    expect(finishShard(t.store, c0)).toMatchObject({ state: 'failed', filesDone: 1, filesFailed: 1, filesLeft: 1 });
    expectConsistent(t.store);

    const c2 = claimShard(t.store, { planId, owner: 'b', preferIndex: 2, ttlMs: 1_000 })!;
    markFileRunning(t.store, c2, { fileId: shardFiles(t.store, c2.shardId)[0]!.id });
    t.clock.t += 5_000;
    expireLeases(t.store); // running files back to pending
    expectConsistent(t.store);
    const c1 = claimShard(t.store, { planId, owner: 'c', preferIndex: 1, ttlMs: 60_000 })!;
    releaseLease(t.store, c1);
    resetFile(t.store, { fileId: shardFiles(t.store, c1.shardId)[0]!.id, reason: 'verify: missing' });
    expectConsistent(t.store);
    t.store.write((db) => db.prepare("UPDATE files SET state = 'pending', last_error = NULL WHERE state = 'failed'").run());
    t.store.write((db) => db.prepare('DELETE FROM files WHERE id = ?').run(f0[1]));
    expectConsistent(t.store);
    t.store.write((db) => db.prepare('DELETE FROM plans WHERE id = ?').run(planId));
    expect(t.store.db.prepare('SELECT COUNT(*) FROM shard_progress').pluck().get()).toBe(0);
    expect(t.store.db.prepare('SELECT COUNT(*) FROM done_rate').pluck().get()).toBe(0);
  });

  it('record completed bytes per dataset and 10-second bucket, not files carried done by a re-plan', () => {
    t = testDb();
    const planId = createPlan(t.store, makePlan({ shardBytes: [[100, 200, 300]], done: (_s, i) => i === 2 }));
    const c = claimShard(t.store, { planId, owner: 'a', ttlMs: 60_000 })!;
    const ids = shardFiles(t.store, c.shardId).map((f) => f.id);
    markFileDone(t.store, c, { fileId: ids[0]! });
    t.clock.t += 10_000;
    markFileDone(t.store, c, { fileId: ids[1]! });
    const rows = t.store.db.prepare('SELECT bucket, bytes FROM done_rate ORDER BY bucket').all();
    expect(rows).toEqual([
      { bucket: Math.floor((t.clock.t - 10_000) / 10_000), bytes: 100 },
      { bucket: Math.floor(t.clock.t / 10_000), bytes: 200 },
    ]);
  });

  it('are backfilled when a version 1 database is migrated', () => {
    t = testDb();
    const path = `${t.dir}/v1.sqlite`;
    const raw = new Database(path);
    raw.transaction(() => migrate(raw, path, migrations.slice(0, 1)))();
    // A version 1 database with a plan and some progress, written without any trigger.
    raw.exec(`
      INSERT INTO plans (id, created_at, manifest_path, manifest_sha256, root, hub_url, shard_count) VALUES (1, 1000, '/m', 'x', '/r', 'http://h', 2);
      INSERT INTO datasets (id, plan_id, repo, revision, commit_sha) VALUES (1, 1, 'a/b', 'main', 'c'), (2, 1, 'a/c', 'main', 'd');
      INSERT INTO shards (id, plan_id, idx, bytes_total, files_total) VALUES (1, 1, 0, 60, 3), (2, 1, 1, 40, 1);
      INSERT INTO files (dataset_id, shard_id, path, size, oid, blob, state, bytes_done, updated_at) VALUES
        (1, 1, 'x', 10, 'o1', 'o1', 'done', 10, 25000), (1, 1, 'y', 20, 'o2', 'o2', 'failed', 5, 26000),
        (2, 1, 'z', 30, 'o3', 'o3', 'pending', 12, 27000), (2, 2, 'w', 40, 'o4', 'o4', 'done', 40, 900);`);
    raw.close();
    const store = openStore({ path });
    try {
      expectConsistent(store);
      expect(store.db.prepare('SELECT dataset_id, bucket, bytes FROM done_rate').all()).toEqual([{ dataset_id: 1, bucket: 2, bytes: 10 }]);
      expect(listShards(store, 1).map((s) => [s.filesDone, s.filesFailed, s.bytesDone])).toEqual([[1, 1, 27], [1, 0, 40]]);
    } finally {
      store.close();
    }
  });
});

describe('planProgress', () => {
  it('reads no table of files in full: every statement finds its file rows through an index, and the failed list is bounded', () => {
    t = testDb();
    const planId = createPlan(t.store, makePlan({ shardBytes: [[1, 2, 3, 4], [5, 6]] }));
    const c = claimShard(t.store, { planId, owner: 'a', preferIndex: 0, ttlMs: 60_000 })!;
    for (const f of shardFiles(t.store, c.shardId)) markFileFailed(t.store, c, { fileId: f.id, error: `boom ${f.path}` });
    const reader = t.open();
    const seen: string[] = [];
    const prepare = reader.db.prepare.bind(reader.db);
    reader.db.prepare = ((sql: string) => (seen.push(sql), prepare(sql))) as typeof reader.db.prepare;
    const p = planProgress(reader, { now: t.clock.t, rateWindowMs: 300_000, failureLimit: 3 });
    expect(p.failures).toHaveLength(3);
    expect(p.failuresTruncated).toBe(true);
    expect(p.shards.map((s) => s.filesFailed)).toEqual([4, 0]);
    expect(p.datasets[0]).toMatchObject({ files: 6, filesFailed: 4, bytes: 21 });
    expect(seen.length).toBeGreaterThan(3);
    for (const sql of seen) {
      const plan = (prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...placeholders(sql)) as { detail: string }[]).map((r) => r.detail);
      for (const step of plan) expect(step).not.toMatch(/^SCAN (f|files)\b/);
    }
  });
});

/** Dummy arguments for a statement's parameters (EXPLAIN needs them bound). */
function placeholders(sql: string): unknown[] | [Record<string, unknown>] {
  const named = [...sql.matchAll(/@(\w+)/g)].map((m) => m[1]!);
  if (named.length) return [Object.fromEntries(named.map((n) => [n, 0]))];
  return Array.from(sql.matchAll(/\?/g), () => 0);
}

// The worker's paged read of a shard: keyset pages in (size, blob) descending order, a blob's
// files never split between pages and in plan order (one with more paths than a page: in
// chunks of at most a page, on consecutive pages), cursor continuation, files finished by
// another claim between pages read as they are now, an empty shard, and the index that serves it.
import { afterEach, describe, expect, it } from '@jest/globals';
import {
  claimShard,
  createPlan,
  markFileDone,
  shardFiles,
  shardFilesPage,
  shardHasRecordedBytes,
  shardTotals,
  type NewPlan,
  type NewPlanFile,
  type ShardFile,
  type Store,
} from '../../src/index.js';
import { testDb, type TestDb } from './helpers.js';

let t: TestDb | undefined;
afterEach(() => {
  t?.cleanup();
  t = undefined;
});

const blobName = (n: number): string => n.toString(16).padStart(40, '0');

/**
 * Shard 0: `count` files in two datasets; every third file shares a blob with the one before it
 * (same content in both datasets), sizes repeat so that different blobs tie on size.
 * Shard 1 holds one file, so its pages must never show up in shard 0's.
 */
function plan(count: number, extra: Partial<NewPlanFile>[] = []): NewPlan {
  const files: NewPlanFile[] = [];
  let blob = 0;
  for (let i = 0; i < count; i++) {
    if (i % 3 !== 2) blob++;
    const size = 100 + (blob % 4) * 10;
    files.push({ datasetRepo: i % 2 ? 'org/b' : 'org/a', path: `d/f${i}.bin`, size, oid: blobName(blob), blob: blobName(blob), shardIdx: 0, ...extra[i] });
  }
  files.push({ datasetRepo: 'org/a', path: 'other.bin', size: 5000, oid: blobName(9999), blob: blobName(9999), shardIdx: 1 });
  const sum = (idx: number) => files.filter((f) => f.shardIdx === idx);
  return {
    manifestPath: '/m.yaml',
    manifestSha256: 'ab'.repeat(32),
    root: '/root',
    hubUrl: 'http://127.0.0.1:1',
    datasets: [
      { repo: 'org/a', revision: 'main', commitSha: 'a'.repeat(40) },
      { repo: 'org/b', revision: 'main', commitSha: 'b'.repeat(40) },
    ],
    shards: [0, 1].map((idx) => ({ idx, filesTotal: sum(idx).length, bytesTotal: sum(idx).reduce((s, f) => s + f.size, 0) })),
    files,
  };
}

function shardId(store: Store, idx: number): number {
  return store.read((db) => db.prepare('SELECT id FROM shards WHERE idx = ?').pluck().get(idx)) as number;
}

function allPages(store: Store, id: number, limit: number): ShardFile[][] {
  const pages: ShardFile[][] = [];
  let after;
  for (;;) {
    const page = shardFilesPage(store, { shardId: id, after, limit });
    pages.push(page.files);
    if (!page.next) return pages;
    after = page.next;
  }
}

describe('shardFilesPage', () => {
  it('reads every file of the shard once, largest first, a blob and its files in plan order, for any page size', () => {
    t = testDb();
    createPlan(t.store, plan(50));
    const id = shardId(t.store, 0);
    const expected = [...shardFiles(t.store, id)].sort((a, b) => b.size - a.size || (a.blob < b.blob ? 1 : a.blob > b.blob ? -1 : a.id - b.id));
    for (const limit of [1, 2, 3, 7, 49, 50, 51, 1000]) {
      const pages = allPages(t.store, id, limit);
      expect(pages.flat()).toEqual(expected);
      // At least `limit` files per page except the last; never one blob on two pages.
      pages.slice(0, -1).forEach((p) => expect(p.length).toBeGreaterThanOrEqual(limit));
      const pageOfBlob = new Map<string, number>();
      pages.forEach((p, i) =>
        p.forEach((f) => {
          expect(pageOfBlob.get(f.blob) ?? i).toBe(i);
          pageOfBlob.set(f.blob, i);
        }),
      );
    }
    // The shared blobs really span both datasets and sit at page ends with a small limit.
    const shared = expected.filter((f, i, xs) => xs.some((g, j) => j !== i && g.blob === f.blob));
    expect(new Set(shared.map((f) => f.repo))).toEqual(new Set(['org/a', 'org/b']));
    expect(shardFilesPage(t.store, { shardId: id, limit: 1 }).files.length).toBe(expected[0].blob === expected[1].blob ? 2 : 1);
  });

  it('reads a blob with more paths than a page in chunks of at most a page, on consecutive pages, never more than 2 × limit files a page', () => {
    t = testDb();
    // Files 10..39 share one blob (many empty files do): 30 paths.
    const extra: Partial<NewPlanFile>[] = [];
    for (let i = 10; i < 40; i++) extra[i] = { size: 120, oid: blobName(7777), blob: blobName(7777) };
    createPlan(t.store, plan(60, extra));
    const id = shardId(t.store, 0);
    const expected = [...shardFiles(t.store, id)].sort((a, b) => b.size - a.size || (a.blob < b.blob ? 1 : a.blob > b.blob ? -1 : a.id - b.id));
    for (const limit of [1, 3, 4, 7, 29, 30, 31, 1000]) {
      const pages = allPages(t.store, id, limit);
      expect(pages.flat()).toEqual(expected);
      pages.slice(0, -1).forEach((p) => expect(p.length).toBeGreaterThan(0));
      pages.forEach((p) => expect(p.length).toBeLessThanOrEqual(2 * limit));
      const onPages = (blob: string) => pages.flatMap((p, i) => (p.some((f) => f.blob === blob) ? [i] : []));
      const big = onPages(blobName(7777));
      expect(big).toEqual(Array.from({ length: big.length }, (_, k) => big[0] + k));
      if (limit >= 30) expect(big).toHaveLength(1);
      else expect(big.length).toBeGreaterThanOrEqual(Math.ceil(30 / (2 * limit)));
      // Blobs of at most `limit` paths are still never split.
      for (const f of expected) if (f.blob !== blobName(7777) && limit >= 2) expect(onPages(f.blob)).toHaveLength(1);
    }
  });

  it('continues from the cursor and reads files finished by another claim between pages as they are now', () => {
    t = testDb();
    const planId = createPlan(t.store, plan(12));
    const id = shardId(t.store, 0);
    const first = shardFilesPage(t.store, { shardId: id, limit: 4 });
    expect(first.next).toBeDefined();
    const later = allPages(t.store, id, 1000)[0].slice(first.files.length);
    // Another task claims the shard and finishes a file the next page holds.
    const claim = claimShard(t.store, { planId, owner: 'other@host:1', preferIndex: 0, ttlMs: 60_000 });
    if (!claim) throw new Error('nothing to claim');
    markFileDone(t.store, claim, { fileId: later[1].id, bytes: later[1].size });
    const second = shardFilesPage(t.store, { shardId: id, after: first.next, limit: 1000 });
    expect(second.next).toBeUndefined();
    expect(second.files.map((f) => f.id)).toEqual(later.map((f) => f.id));
    expect(second.files[1].state).toBe('done');
    expect(second.files.filter((f) => f.state === 'done').map((f) => f.id)).toEqual([later[1].id]);
  });

  it('reads an empty page with no cursor for a shard without files, and nothing of another shard', () => {
    t = testDb();
    createPlan(t.store, plan(3));
    expect(shardFilesPage(t.store, { shardId: 12345, limit: 10 })).toEqual({ files: [] });
    const one = shardFilesPage(t.store, { shardId: shardId(t.store, 1), limit: 1 });
    // A full page of one file asks for the rest of its blob and finds the shard ended after it.
    expect(one.files.map((f) => f.path)).toEqual(['other.bin']);
    expect(shardFilesPage(t.store, { shardId: shardId(t.store, 1), after: one.next, limit: 1 })).toEqual({ files: [] });
  });

  it('is served by the files_shard_order index (no pass over the shard)', () => {
    t = testDb();
    createPlan(t.store, plan(3));
    const detail = (sql: string) => (t!.store.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).map((r) => r.detail).join(' | ');
    const q = detail(
      "SELECT f.id FROM files f JOIN datasets d ON d.id = f.dataset_id WHERE f.shard_id = 1 AND (f.size, f.blob) < (5, 'x') ORDER BY f.size DESC, f.blob DESC, f.id LIMIT 10",
    );
    expect(q).toContain('USING INDEX files_shard_order (shard_id=? AND (size,blob)<(?,?))');
  });
});

describe('shardTotals / shardHasRecordedBytes', () => {
  it("give a shard's planned totals and whether an unfinished file has bytes recorded", () => {
    t = testDb();
    createPlan(t.store, plan(6, [{}, { state: 'done' }, {}, { bytesDone: 7 }]));
    const p = plan(6);
    expect(shardTotals(t.store, shardId(t.store, 0))).toEqual({ files: 6, bytes: p.shards[0].bytesTotal });
    expect(shardTotals(t.store, 12345)).toEqual({ files: 0, bytes: 0 });
    expect(shardHasRecordedBytes(t.store, shardId(t.store, 0))).toBe(true);
    // A done file's bytes do not count: nothing partial can be left of it.
    t.store.write((db) => db.prepare('UPDATE files SET bytes_done = 0 WHERE state != ?').run('done'));
    expect(shardHasRecordedBytes(t.store, shardId(t.store, 0))).toBe(false);
    expect(shardHasRecordedBytes(t.store, shardId(t.store, 1))).toBe(false);
  });
});

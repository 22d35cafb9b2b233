import { afterEach, describe, expect, it } from '@jest/globals';
import {
  InternalError,
  createPlan,
  fileStatesByBlob,
  getPlan,
  latestPlan,
  listShards,
  recentEvents,
  setPlanJobIds,
  shardFiles,
  type NewPlan,
} from '../../src/index.js';
import { makePlan, testDb, type TestDb } from './helpers.js';

let t: TestDb;
afterEach(() => t?.cleanup());

describe('createPlan', () => {
  it('stores datasets, shards and files and reads them back', () => {
    t = testDb();
    const plan: NewPlan = {
      manifestPath: '/home/u/m.yaml',
      manifestSha256: 'f'.repeat(64),
      root: '/scratch/ds',
      hubUrl: 'https://huggingface.co',
      options: { shardSize: 1000 },
      datasets: [
        { repo: 'bigcode/a', revision: 'main', commitSha: 'a'.repeat(40) },
        { repo: 'codeparrot/b', revision: 'v1', commitSha: 'b'.repeat(40) },
      ],
      shards: [
        { idx: 0, bytesTotal: 300, filesTotal: 2 },
        { idx: 1, bytesTotal: 50, filesTotal: 1 },
      ],
      files: [
        { datasetRepo: 'bigcode/a', path: 'x/big.parquet', size: 200, oid: '1'.repeat(40), lfsSha256: '9'.repeat(64), blob: '9'.repeat(64), shardIdx: 0 },
        { datasetRepo: 'codeparrot/b', path: 'README.md', size: 100, oid: '2'.repeat(40), blob: '2'.repeat(40), shardIdx: 0 },
        { datasetRepo: 'bigcode/a', path: 'y.json', size: 50, oid: '3'.repeat(40), blob: '3'.repeat(40), shardIdx: 1 },
      ],
    };
    const id = createPlan(t.store, plan);
    const p = getPlan(t.store, id)!;
    expect(p).toMatchObject({ id, root: '/scratch/ds', shardCount: 2, jobIds: [], options: { shardSize: 1000 }, createdAt: t.clock.t });
    expect(latestPlan(t.store)?.id).toBe(id);
    expect(getPlan(t.store, id + 1)).toBeNull();

    const shards = listShards(t.store, id);
    expect(shards.map((s) => [s.index, s.state, s.bytesTotal, s.filesTotal, s.fence, s.attempts, s.owner])).toEqual([
      [0, 'pending', 300, 2, 0, 0, null],
      [1, 'pending', 50, 1, 0, 0, null],
    ]);
    const files = shardFiles(t.store, shards[0]!.id);
    expect(files).toHaveLength(2);
    expect(files[0]).toMatchObject({ path: 'x/big.parquet', size: 200, lfsSha256: '9'.repeat(64), blob: '9'.repeat(64), state: 'pending', bytesDone: 0, repo: 'bigcode/a', commitSha: 'a'.repeat(40) });
    expect(files[1]).toMatchObject({ path: 'README.md', lfsSha256: null, repo: 'codeparrot/b', revision: 'v1' });
    expect(recentEvents(t.store, { kinds: ['plan-created'] })[0]).toMatchObject({ planId: id, detail: { shards: 2, files: 3, bytes: 350 } });
  });

  it('keeps done files done and marks shards with nothing left as done (idempotent re-plan)', () => {
    t = testDb();
    const id = createPlan(t.store, makePlan({ shardBytes: [[10, 20], [30]], done: (s) => s === 1 }));
    const shards = listShards(t.store, id);
    expect(shards.map((s) => s.state)).toEqual(['pending', 'done']);
    expect(shards[1]).toMatchObject({ bytesDone: 30, filesDone: 1 });
    const blobs = shardFiles(t.store, shards[1]!.id).map((f) => f.blob);
    const states = fileStatesByBlob(t.store, [...blobs, 'never-seen']);
    expect(states.get(blobs[0]!)).toEqual({ done: true, bytesDone: 30 });
    expect(states.has('never-seen')).toBe(false);

    // A second plan over the same content: the blob seen done in plan 1 stays done.
    const again = createPlan(t.store, makePlan({ shardBytes: [[10, 20], [30]], done: (s, i) => fileStatesByBlob(t.store, [oidOf(s, i)]).get(oidOf(s, i))?.done === true }));
    expect(again).toBeGreaterThan(id);
    expect(listShards(t.store, again).map((s) => s.state)).toEqual(['pending', 'done']);
    expect(latestPlan(t.store)?.id).toBe(again);
  });

  it('stores 100,000 files in one transaction', () => {
    t = testDb();
    const sizes = Array.from({ length: 100 }, () => Array.from({ length: 1000 }, (_, i) => i + 1));
    let writes = 0;
    const write = t.store.write.bind(t.store);
    const counted = { ...t.store, write: <T>(fn: Parameters<typeof write<T>>[0]) => (writes++, write(fn)) };
    const id = createPlan(counted, makePlan({ shardBytes: sizes }));
    expect(writes).toBe(1);
    expect(t.store.db.prepare('SELECT count(*) FROM files').pluck().get()).toBe(100_000);
    expect(listShards(t.store, id).every((s) => s.filesTotal === 1000 && s.bytesTotal === 500_500)).toBe(true);
  });

  it('refuses malformed plans before writing anything', () => {
    t = testDb();
    const good = makePlan({ shardBytes: [[1, 2]] });
    const cases: [string, NewPlan][] = [
      ['unknown dataset', { ...good, files: [{ ...good.files[0]!, datasetRepo: 'x/y' }, good.files[1]!] }],
      ['unknown shard', { ...good, files: [{ ...good.files[0]!, shardIdx: 7 }, good.files[1]!] }],
      ['bad totals', { ...good, shards: [{ idx: 0, bytesTotal: 4, filesTotal: 2 }] }],
      ['duplicate dataset', { ...good, datasets: [good.datasets[0]!, good.datasets[0]!] }],
      ['shard index gap', { ...good, shards: [{ ...good.shards[0]!, idx: 1 }] }],
      ['same path twice', { ...good, files: [good.files[0]!, { ...good.files[1]!, path: good.files[0]!.path }] }],
      ['bad state', { ...good, files: [good.files[0]!, { ...good.files[1]!, state: 'running' as 'done' }] }],
    ];
    for (const [, plan] of cases) expect(() => createPlan(t.store, plan)).toThrow(InternalError);
    expect(latestPlan(t.store)).toBeNull();
    // A database constraint failing half-way (NOT NULL path) rolls the whole plan back.
    expect(() => createPlan(t.store, { ...good, files: [good.files[0]!, { ...good.files[1]!, path: null as unknown as string }] })).toThrow(/NOT NULL/);
    expect(t.store.db.prepare('SELECT count(*) FROM plans').pluck().get()).toBe(0);
  });
});

describe('setPlanJobIds', () => {
  it('records the job ids and an event', () => {
    t = testDb();
    const id = createPlan(t.store, makePlan({ shardBytes: [[1]] }));
    setPlanJobIds(t.store, id, ['1234', '1235']);
    expect(getPlan(t.store, id)?.jobIds).toEqual(['1234', '1235']);
    expect(recentEvents(t.store, { kinds: ['jobs-submitted'] })).toHaveLength(1);
    expect(() => setPlanJobIds(t.store, id + 5, ['1'])).toThrow(InternalError);
  });
});

function oidOf(s: number, i: number): string {
  return `${s}`.padStart(4, '0') + `${i}`.padStart(36, '0');
}

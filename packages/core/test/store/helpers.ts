// Shared test helpers: a temp database with a settable clock, and small plans.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPlan, openStore, type NewPlan, type NewPlanFile, type Store } from '../../src/index.js';

export interface TestDb {
  dir: string;
  path: string;
  store: Store;
  clock: { t: number };
  /** Another connection to the same file with the same clock. */
  open(extra?: Partial<Parameters<typeof openStore>[0]>): Store;
  cleanup(): void;
}

export function testDb(): TestDb {
  const dir = mkdtempSync(join(tmpdir(), 'hfhpc-store-'));
  const path = join(dir, '_hfhpc', 'state.sqlite');
  const clock = { t: 1_700_000_000_000 };
  const opened: Store[] = [];
  const open = (extra = {}) => {
    const s = openStore({ path, now: () => clock.t, ...extra });
    opened.push(s);
    return s;
  };
  const store = open();
  return {
    dir,
    path,
    store,
    clock,
    open,
    cleanup() {
      for (const s of opened) s.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A plan with one dataset and, per shard, `filesPerShard` files of the given sizes. */
export function makePlan(params: { shardBytes: number[][]; repo?: string; done?: (shard: number, file: number) => boolean }): NewPlan {
  const repo = params.repo ?? 'bigcode/tiny';
  const files: NewPlanFile[] = [];
  params.shardBytes.forEach((sizes, s) =>
    sizes.forEach((size, i) => {
      const oid = `${s}`.padStart(4, '0') + `${i}`.padStart(36, '0');
      files.push({ datasetRepo: repo, path: `data/s${s}/f${i}.bin`, size, oid, blob: oid, shardIdx: s, state: params.done?.(s, i) ? 'done' : 'pending' });
    }),
  );
  return {
    manifestPath: '/m.yaml',
    manifestSha256: 'ab'.repeat(32),
    root: '/root',
    hubUrl: 'http://127.0.0.1:1',
    options: { shards: params.shardBytes.length },
    datasets: [{ repo, revision: 'main', commitSha: 'c'.repeat(40) }],
    shards: params.shardBytes.map((sizes, idx) => ({ idx, bytesTotal: sizes.reduce((a, b) => a + b, 0), filesTotal: sizes.length })),
    files,
  };
}

export function addPlan(store: Store, shardBytes: number[][]): number {
  return createPlan(store, makePlan({ shardBytes }));
}

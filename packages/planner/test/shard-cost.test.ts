// The cost model: bytes plus a per-request overhead, a cap on files per shard, and enough
// shards to fill the array when a plan has many files.
import { describe, expect, it } from '@jest/globals';
import { assignShards, type ShardableFile } from '../src/shard.js';
import { DEFAULT_MAX_FILES_PER_SHARD, MIN_FILES_PER_FILLED_SHARD, PER_FILE_OVERHEAD_BYTES, fileCost, shardCount } from '../src/shard-cost.js';
import { DEFAULT_SHARD_SIZE } from '../src/plan-settings.js';

interface F extends ShardableFile {
  path: string;
}

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const tiny = (n: number, size = 1024): F[] => Array.from({ length: n }, (_, i) => ({ path: `t/${i}`, blob: `t${i}`, bytes: size }));

/** `n` files of 100 MB – 5 GB, sizes spread like a real parquet dump (more small than large). */
function large(n: number, seed: number): F[] {
  const rnd = lcg(seed);
  return Array.from({ length: n }, (_, i) => ({ path: `l/${i}`, blob: `l${i}`, bytes: Math.floor(1e8 + rnd() ** 2 * 4.9e9) }));
}

const ratio = (s: { largest: number; smallest: number }) => s.largest / s.smallest;

describe('fileCost', () => {
  it('is the bytes plus one request overhead, and nothing when there is nothing to fetch', () => {
    expect(PER_FILE_OVERHEAD_BYTES).toBe(4 * 1024 * 1024);
    expect(fileCost(0)).toBe(0);
    expect(fileCost(1)).toBe(1 + PER_FILE_OVERHEAD_BYTES);
    expect(fileCost(5e9)).toBe(5e9 + PER_FILE_OVERHEAD_BYTES);
    expect(fileCost(10, 100)).toBe(110);
  });
});

describe('shardCount', () => {
  const base = { maxFilesPerShard: 2000, shardSize: 200e9 };
  it('takes the most of cost, files cap and array fill', () => {
    // cost: 3 units of 100 each over a size of 100 → 3
    expect(shardCount({ ...base, shardSize: 100, unitCosts: [100, 100, 100], files: 3 })).toBe(3);
    // cap: 20,000 files / 2,000 → 10
    expect(shardCount({ ...base, unitCosts: new Array(20000).fill(PER_FILE_OVERHEAD_BYTES), files: 20000, maxParallel: 8 })).toBe(10);
    // fill: 20,000 files could fill 80 shards of 250; max_parallel 32 → 32
    expect(shardCount({ ...base, unitCosts: new Array(20000).fill(PER_FILE_OVERHEAD_BYTES), files: 20000, maxParallel: 32 })).toBe(32);
    // too few files to be worth a task each: no fill
    expect(shardCount({ ...base, unitCosts: new Array(MIN_FILES_PER_FILLED_SHARD * 2 - 1).fill(1), files: MIN_FILES_PER_FILLED_SHARD * 2 - 1, maxParallel: 32 })).toBe(1);
  });
  it('keeps --shards N unless N shards would break the files cap', () => {
    expect(shardCount({ ...base, shards: 3, unitCosts: [1, 1, 1], files: 3 })).toBe(3);
    expect(shardCount({ ...base, shards: 3, unitCosts: [], files: 10_000 })).toBe(5);
    expect(() => shardCount({ ...base, maxFilesPerShard: 0, unitCosts: [], files: 1 })).toThrow(/maxFilesPerShard/);
  });
});

describe('assignShards by cost', () => {
  it('gives a default plan of 20,000 tiny files at --max-parallel 8 at least 8 shards, none over the cap', () => {
    const plan = assignShards({ files: tiny(20_000), shardSize: DEFAULT_SHARD_SIZE, maxParallel: 8 });
    expect(plan.shards.length).toBeGreaterThanOrEqual(8);
    expect(plan.shards).toHaveLength(10);
    const counts = plan.shards.map((s) => s.files.length);
    expect(Math.max(...counts)).toBeLessThanOrEqual(DEFAULT_MAX_FILES_PER_SHARD);
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(20_000);
  });

  it('fills the array when there are files for it, and was one shard by bytes alone', () => {
    expect(assignShards({ files: tiny(20_000), shardSize: DEFAULT_SHARD_SIZE, maxParallel: 32 }).shards).toHaveLength(32);
    // Today's model (bytes only, no cap, no fill) for the same files: one shard.
    expect(assignShards({ files: tiny(20_000), shardSize: DEFAULT_SHARD_SIZE, perFileOverhead: 0, maxFilesPerShard: 1e9 }).shards).toHaveLength(1);
  });

  it('weighs a small file by its request: 1,000 tiny files balance against a 4 GiB file', () => {
    const files: F[] = [{ path: 'big', blob: 'big', bytes: 1000 * PER_FILE_OVERHEAD_BYTES }, ...tiny(2000, 1)];
    const plan = assignShards({ files, shards: 3 });
    const sizes = plan.shards.map((s) => s.files.length).sort((a, b) => a - b);
    expect(sizes).toEqual([1, 1000, 1000]);
    expect(ratio(plan.costSpread)).toBeLessThan(1.001);
  });

  it('keeps byte balance for large files within 1.1× (as good as bytes alone)', () => {
    for (const [n, seed, shardSize] of [
      [300, 1, DEFAULT_SHARD_SIZE],
      [400, 2, 100e9],
      [250, 3, 50e9],
      [600, 4, 200e9],
    ] as const) {
      const files = large(n, seed);
      const byCost = assignShards({ files, shardSize, maxParallel: 32 });
      const byBytes = assignShards({ files, shardSize, perFileOverhead: 0, maxFilesPerShard: 1e9 });
      expect(byCost.shards.length).toBeGreaterThan(1);
      expect(ratio(byCost.costSpread)).toBeLessThanOrEqual(1.1);
      expect(ratio(byCost.spread)).toBeLessThanOrEqual(1.1);
      // Same shard count as the bytes-only model, and a spread no worse than it by more than 1 %.
      expect(byCost.shards.length).toBe(byBytes.shards.length);
      expect(ratio(byCost.spread)).toBeLessThanOrEqual(ratio(byBytes.spread) * 1.01);
    }
  });

  it('holds the cap when one big file would draw every small file to the other shard', () => {
    const files: F[] = [{ path: 'huge', blob: 'huge', bytes: 100e9 }, ...tiny(4000)];
    const plan = assignShards({ files, shardSize: DEFAULT_SHARD_SIZE, maxFilesPerShard: 2000 });
    expect(Math.max(...plan.shards.map((s) => s.files.length))).toBeLessThanOrEqual(2000);
    expect(plan.shards.reduce((a, s) => a + s.files.length, 0)).toBe(4001);
    expect(plan.shards.every((s) => s.files.length > 0)).toBe(true);
  });

  it('keeps a blob shared by more paths than the cap together, in a shard of its own', () => {
    const shared: F[] = Array.from({ length: 5 }, (_, i) => ({ path: `copy/${i}`, blob: 'same', bytes: 10 }));
    const plan = assignShards({ files: [...shared, ...tiny(6)], shards: 1, maxFilesPerShard: 3 });
    const withSame = plan.shards.filter((s) => s.files.some((f) => f.blob === 'same'));
    expect(withSame).toHaveLength(1);
    expect(withSame[0].files.map((f) => f.blob)).toEqual(['same', 'same', 'same', 'same', 'same']);
    for (const s of plan.shards.filter((x) => x !== withSame[0])) expect(s.files.length).toBeLessThanOrEqual(3);
    expect(plan.shards.reduce((a, s) => a + s.files.length, 0)).toBe(11);
  });
});

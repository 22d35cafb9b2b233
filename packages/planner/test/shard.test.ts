import { describe, expect, it } from '@jest/globals';
import { assignShards, type ShardableFile } from '../src/shard.js';

interface F extends ShardableFile {
  path: string;
}

/** Deterministic pseudo-random sizes (no Math.random: a failure must be reproducible). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function files(n: number, seed = 1): F[] {
  const rnd = lcg(seed);
  return Array.from({ length: n }, (_, i) => {
    const size = Math.floor(rnd() ** 3 * 5e9); // skewed: many small, a few large
    return { path: `data/${i}.parquet`, blob: `b${i}`, bytes: size };
  });
}

describe('assignShards', () => {
  it('puts every file in exactly one shard and creates no empty shard', () => {
    const input = files(5000);
    const plan = assignShards({ files: input, shards: 64 });
    expect(plan.shards).toHaveLength(64);
    const seen = plan.shards.flatMap((s) => s.files.map((f) => f.path));
    expect(seen).toHaveLength(input.length);
    expect(new Set(seen).size).toBe(input.length);
    expect(plan.shards.every((s) => s.files.length > 0)).toBe(true);
    expect(plan.shards.map((s) => s.index)).toEqual([...Array(64).keys()]);
    for (const s of plan.shards) expect(s.bytes).toBe(s.files.reduce((a, f) => a + f.bytes, 0));
  });

  it('balances bytes: the spread is within the largest file of the mean', () => {
    const input = files(20000, 7);
    const plan = assignShards({ files: input, shards: 100 });
    const total = input.reduce((a, f) => a + f.bytes, 0);
    const biggest = Math.max(...input.map((f) => f.bytes));
    expect(plan.spread.largest).toBe(Math.max(...plan.shards.map((s) => s.bytes)));
    expect(plan.spread.smallest).toBe(Math.min(...plan.shards.map((s) => s.bytes)));
    // LPT bound: no shard exceeds the mean by more than one unit, none falls below mean - unit.
    expect(plan.spread.largest).toBeLessThanOrEqual(total / 100 + biggest);
    expect(plan.spread.largest - plan.spread.smallest).toBeLessThanOrEqual(biggest);
  });

  it('derives N from the shard size and gives each file larger than it a shard of its own', () => {
    const input: F[] = [
      { path: 'huge-1', blob: 'h1', bytes: 900 },
      { path: 'huge-2', blob: 'h2', bytes: 350 },
      ...Array.from({ length: 40 }, (_, i) => ({ path: `small-${i}`, blob: `s${i}`, bytes: 10 })),
    ];
    const plan = assignShards({ files: input, shardSize: 100, perFileOverhead: 0 });
    // total 1650 → ceil = 17; 2 big + ceil(400 / 100) = 6 → 17 wanted, capped by 42 units.
    expect(plan.shards).toHaveLength(17);
    for (const big of ['huge-1', 'huge-2']) {
      const s = plan.shards.find((x) => x.files.some((f) => f.path === big));
      expect(s?.files.map((f) => f.path)).toEqual([big]);
    }
  });

  it('needs at least one shard per oversized file even when the total is small', () => {
    const input: F[] = [
      { path: 'a', blob: 'a', bytes: 150 },
      { path: 'b', blob: 'b', bytes: 150 },
      { path: 'c', blob: 'c', bytes: 1 },
    ];
    const plan = assignShards({ files: input, shardSize: 100, perFileOverhead: 0 });
    expect(plan.shards.map((s) => s.files.map((f) => f.path))).toEqual([['a'], ['b'], ['c']]);
  });

  it('plans a blob shared by two paths once, in one shard, counting its bytes once', () => {
    const input: F[] = [
      { path: 'ds1/x', blob: 'same', bytes: 500 },
      { path: 'ds2/x', blob: 'same', bytes: 500 },
      { path: 'y', blob: 'y', bytes: 400 },
      { path: 'z', blob: 'z', bytes: 100 },
    ];
    const plan = assignShards({ files: input, shards: 2 });
    const withSame = plan.shards.filter((s) => s.files.some((f) => f.blob === 'same'));
    expect(withSame).toHaveLength(1);
    expect(withSame[0].files.filter((f) => f.blob === 'same')).toHaveLength(2);
    expect(withSame[0].bytes).toBe(500);
    expect(plan.spread).toEqual({ largest: 500, smallest: 500 });
  });

  it('never creates more shards than download units, and none for no files', () => {
    expect(assignShards({ files: files(3), shards: 10 }).shards).toHaveLength(3);
    expect(assignShards({ files: [], shardSize: 1e9 })).toEqual({ shards: [], spread: { largest: 0, smallest: 0 }, costSpread: { largest: 0, smallest: 0 } });
  });

  it('spreads zero-byte (done) files across shards instead of piling them on one', () => {
    const input: F[] = Array.from({ length: 10 }, (_, i) => ({ path: `d${i}`, blob: `d${i}`, bytes: 0 }));
    const plan = assignShards({ files: input, shards: 5 });
    expect(plan.shards.map((s) => s.files.length)).toEqual([2, 2, 2, 2, 2]);
  });

  it('is deterministic whatever the input order', () => {
    const input = files(500, 3);
    const a = assignShards({ files: input, shards: 7 });
    const b = assignShards({ files: [...input].reverse(), shards: 7 });
    const norm = (p: typeof a) => p.shards.map((s) => s.files.map((f) => f.path).sort());
    expect(norm(b)).toEqual(norm(a));
  });

  it('rejects a bad shard count or size with a usage error', () => {
    expect(() => assignShards({ files: files(2), shards: 0 })).toThrow(/positive integer, got `0`/);
    expect(() => assignShards({ files: files(2), shards: 1.5 })).toThrow(/positive integer/);
    expect(() => assignShards({ files: files(2) })).toThrow(expect.objectContaining({ hint: expect.stringContaining('--shards N or --shard-size') }));
    expect(() => assignShards({ files: files(2), shardSize: -1 })).toThrow(expect.objectContaining({ exitCode: 2 }));
  });
});

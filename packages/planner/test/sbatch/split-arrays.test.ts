import { describe, expect, test } from '@jest/globals';
import { UsageError } from '@hfhpc/core';
import { formatArraySpec, parseArraySpec } from '@hfhpc/scheduler';
import { arraysForIndices, splitArrays } from '../../src/sbatch/index.js';

describe('parseArraySpec / formatArraySpec', () => {
  test.each([
    ['0-4%2', [0, 1, 2, 3, 4], 2],
    ['3,17,42', [3, 17, 42], undefined],
    ['1-7:3', [1, 4, 7], undefined],
    ['9,0-2,2', [0, 1, 2, 9], undefined],
    ['5', [5], undefined],
  ])('%s', (spec, indices, maxParallel) => {
    expect(parseArraySpec(spec)).toEqual(maxParallel === undefined ? { indices } : { indices, maxParallel });
  });

  test.each(['', '1-', 'a', '0-3%0', '0-3%2%2', '4-1', '1-5:0', '-1', '0-3 '])('refuses %j', (spec) => {
    expect(() => parseArraySpec(spec)).toThrow(UsageError);
  });

  test('formats runs as ranges and round-trips', () => {
    const spec = formatArraySpec({ indices: [42, 3, 4, 5, 17, 4], maxParallel: 3 });
    expect(spec).toBe('3-5,17,42%3');
    expect(parseArraySpec(spec)).toEqual({ indices: [3, 4, 5, 17, 42], maxParallel: 3 });
    expect(() => formatArraySpec({ indices: [] })).toThrow(UsageError);
  });
});

describe('splitArrays', () => {
  test('one array 0-(N-1)%K when N fits', () => {
    expect(splitArrays({ shardCount: 10, maxArraySize: 1001, maxParallel: 4 })).toEqual([{ arraySpec: '0-9%4', taskOffset: 0, taskCount: 10 }]);
    expect(splitArrays({ shardCount: 1001, maxArraySize: 1001 })).toEqual([{ arraySpec: '0-1000', taskOffset: 0, taskCount: 1001 }]);
  });

  test('N above MaxArraySize: arrays with offsets, no index above MaxArraySize-1, throttles summing to K', () => {
    const chunks = splitArrays({ shardCount: 2500, maxArraySize: 1001, maxParallel: 100 });
    expect(chunks).toEqual([
      { arraySpec: '0-1000%34', taskOffset: 0, taskCount: 1001 },
      { arraySpec: '0-1000%33', taskOffset: 1001, taskCount: 1001 },
      { arraySpec: '0-497%33', taskOffset: 2002, taskCount: 498 },
    ]);
    // Every shard exactly once.
    const shards = chunks.flatMap((c) => parseArraySpec(c.arraySpec).indices.map((i) => i + c.taskOffset));
    expect(shards).toEqual(Array.from({ length: 2500 }, (_, i) => i));
    for (const c of chunks) expect(Math.max(...parseArraySpec(c.arraySpec).indices)).toBeLessThanOrEqual(1000);
  });

  test('every array runs at least one task even when K is smaller than the number of arrays', () => {
    expect(splitArrays({ shardCount: 30, maxArraySize: 10, maxParallel: 2 }).map((c) => c.arraySpec)).toEqual(['0-9%1', '0-9%1', '0-9%1']);
  });

  test('refuses nonsense', () => {
    expect(() => splitArrays({ shardCount: 0, maxArraySize: 1001 })).toThrow(UsageError);
    expect(() => splitArrays({ shardCount: 5, maxArraySize: 0 })).toThrow(UsageError);
    expect(() => splitArrays({ shardCount: 5, maxArraySize: 1001, maxParallel: 0 })).toThrow(UsageError);
  });
});

describe('arraysForIndices (re-submitting failed shards)', () => {
  test('a list under MaxArraySize is one array of just those tasks', () => {
    expect(arraysForIndices({ indices: [42, 3, 17], maxArraySize: 1001, maxParallel: 2 })).toEqual([{ arraySpec: '3,17,42%2', taskOffset: 0, taskCount: 3 }]);
  });

  test('indices beyond MaxArraySize go to offset arrays', () => {
    expect(arraysForIndices({ indices: [5, 1001, 1002, 2500], maxArraySize: 1001 })).toEqual([
      { arraySpec: '5', taskOffset: 0, taskCount: 1 },
      { arraySpec: '0-1', taskOffset: 1001, taskCount: 2 },
      { arraySpec: '498', taskOffset: 2002, taskCount: 1 },
    ]);
  });

  test('refuses an empty or negative list', () => {
    expect(() => arraysForIndices({ indices: [], maxArraySize: 1001 })).toThrow(UsageError);
    expect(() => arraysForIndices({ indices: [-1], maxArraySize: 1001 })).toThrow(UsageError);
  });
});

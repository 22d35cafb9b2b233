// Which arrays to submit for a set of shard indices, given the cluster's MaxArraySize.
import { UsageError } from '@hfhpc/core';
import { formatArraySpec } from '@hfhpc/scheduler';

export interface ArrayChunk {
  /** `--array` value, e.g. `0-1000%34` or `3,17,42%2`. */
  arraySpec: string;
  /** Added to `SLURM_ARRAY_TASK_ID` to get the shard index (`HFHPC_TASK_OFFSET`). */
  taskOffset: number;
  /** Tasks in this array. */
  taskCount: number;
}

export interface SplitArraysParams {
  /** Shards in the plan: indices 0…shardCount-1. */
  shardCount: number;
  /** The cluster's MaxArraySize: the highest task index Slurm accepts is maxArraySize - 1. */
  maxArraySize: number;
  /** Tasks running at once over all arrays together (the `%K` throttles add up to this). Default: no throttle. */
  maxParallel?: number;
}

/** Arrays covering shards 0…shardCount-1: one when it fits, else one per MaxArraySize block. */
export function splitArrays(params: SplitArraysParams): ArrayChunk[] {
  const { shardCount } = params;
  if (!Number.isInteger(shardCount) || shardCount < 1) {
    throw new UsageError(`shard count must be a whole number ≥ 1, got ${shardCount}`);
  }
  return arraysForIndices({ ...params, indices: Array.from({ length: shardCount }, (_, i) => i) });
}

export interface ArraysForIndicesParams {
  /** Shard indices to run, e.g. only the failed ones (any order, duplicates ignored). */
  indices: readonly number[];
  /** As in `splitArrays`. */
  maxArraySize: number;
  /** As in `splitArrays`. */
  maxParallel?: number;
}

/**
 * Arrays covering exactly `indices` (for re-submitting failed shards: `3,17,42`). Index i goes
 * to the array with offset `floor(i / maxArraySize) * maxArraySize` as task `i - offset`.
 * The throttle is shared out so the arrays together run at most `maxParallel` tasks, except
 * that every array runs at least one (so with more arrays than `maxParallel`, one per array).
 */
export function arraysForIndices(params: ArraysForIndicesParams): ArrayChunk[] {
  const { maxArraySize, maxParallel } = params;
  if (!Number.isInteger(maxArraySize) || maxArraySize < 1) {
    throw new UsageError(`MaxArraySize must be a whole number ≥ 1, got ${maxArraySize}`);
  }
  if (maxParallel !== undefined && (!Number.isInteger(maxParallel) || maxParallel < 1)) {
    throw new UsageError(`max parallel tasks must be a whole number ≥ 1, got ${maxParallel}`, {
      hint: 'give --max-parallel as a positive whole number',
    });
  }
  const groups = new Map<number, number[]>();
  for (const i of new Set(params.indices)) {
    if (!Number.isInteger(i) || i < 0) throw new UsageError(`shard index ${i} is not a non-negative integer`);
    const offset = Math.floor(i / maxArraySize) * maxArraySize;
    const group = groups.get(offset) ?? [];
    group.push(i - offset);
    groups.set(offset, group);
  }
  if (groups.size === 0) throw new UsageError('no shard indices to submit');
  const offsets = [...groups.keys()].sort((a, b) => a - b);
  return offsets.map((taskOffset, n) => {
    const tasks = groups.get(taskOffset)!;
    let throttle: number | undefined;
    if (maxParallel !== undefined) {
      const share = Math.floor(maxParallel / offsets.length) + (n < maxParallel % offsets.length ? 1 : 0);
      throttle = Math.min(Math.max(share, 1), tasks.length);
    }
    return { arraySpec: formatArraySpec({ indices: tasks, maxParallel: throttle }), taskOffset, taskCount: tasks.length };
  });
}

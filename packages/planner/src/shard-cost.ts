// What a shard costs a task, and how many shards a plan gets. Bytes alone make 100,000 small
// files one shard (one task works while the array idles), so each file also costs a fixed
// per-request overhead, a shard holds a bounded number of files, and a plan with many files
// gets enough shards to fill the array.
import { UsageError } from '@hfhpc/core';

/**
 * Cost of one request in bytes: what one connection could have moved during the round trips a
 * file needs before its first byte (a Hub resolve, the CDN redirect, the first response) —
 * a few tens of MB/s times a few hundred ms. 4 MiB makes 1,000 tiny files weigh like a 4 GiB
 * file, and changes the balance of large files (hundreds of MB and more) by under a percent.
 */
export const PER_FILE_OVERHEAD_BYTES = 4 * 1024 * 1024;

/**
 * Files per shard when neither `--max-files-per-shard` nor the manifest says. A shard is what
 * one task holds and what a requeued task redoes: 2,000 files are a few minutes of requests at
 * `--concurrency 8`, and under half of a free account's resolve budget per window.
 */
export const DEFAULT_MAX_FILES_PER_SHARD = 2000;

/**
 * A plan sized by cost still gets up to `max_parallel` shards when it has this many files per
 * shard to give: with fewer, a task's start-up would cost more than the files it fetches.
 */
export const MIN_FILES_PER_FILLED_SHARD = 250;

/** Cost of fetching `bytes` (0: nothing to fetch, so no request either). */
export function fileCost(bytes: number, overhead: number = PER_FILE_OVERHEAD_BYTES): number {
  return bytes > 0 ? bytes + overhead : 0;
}

export interface ShardCountInput {
  /** Cost of each download unit (a blob, fetched once). */
  unitCosts: readonly number[];
  /** Files in the plan (a unit may hold several paths). */
  files: number;
  /** `--shards N`: this many (more only when the files cap needs them). */
  shards?: number;
  /** Target cost per shard when `shards` is not given. */
  shardSize?: number;
  maxFilesPerShard: number;
  /** Array tasks at once; a plan sized by cost fills them when it has the files. */
  maxParallel?: number;
}

/**
 * `shards` when given (or more, when that many would hold over maxFilesPerShard files each);
 * else the most of: total cost / shardSize (one shard per unit costing more than shardSize,
 * plus enough for the rest), files / maxFilesPerShard, and
 * min(maxParallel, files / MIN_FILES_PER_FILLED_SHARD).
 */
export function shardCount(p: ShardCountInput): number {
  if (!Number.isSafeInteger(p.maxFilesPerShard) || p.maxFilesPerShard < 1) {
    throw new UsageError(`Expected \`maxFilesPerShard\` to be a positive integer, got \`${p.maxFilesPerShard}\``, { hint: 'e.g. --max-files-per-shard 2000' });
  }
  const byFiles = Math.ceil(p.files / p.maxFilesPerShard);
  if (p.shards !== undefined) {
    if (!Number.isSafeInteger(p.shards) || p.shards < 1) {
      throw new UsageError(`Expected \`shards\` to be a positive integer, got \`${p.shards}\``, { hint: 'pass --shards N with N >= 1' });
    }
    return Math.max(p.shards, byFiles);
  }
  const { shardSize } = p;
  if (shardSize === undefined || !Number.isFinite(shardSize) || shardSize <= 0) {
    throw new UsageError(`Expected \`shardSize\` to be a positive number of bytes, got \`${shardSize}\``, {
      hint: 'pass --shards N or --shard-size SIZE (e.g. 200GB)',
    });
  }
  let total = 0;
  let big = 0;
  let smallTotal = 0;
  for (const c of p.unitCosts) {
    total += c;
    if (c > shardSize) big += 1;
    else smallTotal += c;
  }
  const byCost = Math.max(Math.ceil(total / shardSize), big + Math.ceil(smallTotal / shardSize));
  const fill = Math.min(p.maxParallel ?? 1, Math.floor(p.files / MIN_FILES_PER_FILLED_SHARD));
  return Math.max(1, byCost, byFiles, fill);
}

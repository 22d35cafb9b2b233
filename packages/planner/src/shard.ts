// Byte-balanced sharding (pure). Files that share a blob are one download unit: they go to
// the same shard and their bytes count once. Units are placed largest-first into the
// currently lightest shard (LPT), which keeps the spread small and gives every unit larger
// than the target shard size a shard of its own (the lightest shard is never above the
// target while such a unit is placed).
import { UsageError } from '@hfhpc/core';
import { MinHeap } from './min-heap.js';

export interface ShardableFile {
  /** Download identity (sha256 for LFS files, git blob sha1 otherwise). */
  blob: string;
  /** Bytes this file costs to fetch: its size, or 0 when it is already done. */
  bytes: number;
}

export interface AssignShardsParams<T extends ShardableFile> {
  files: readonly T[];
  /** Exactly this many shards (fewer when there are fewer download units). */
  shards?: number;
  /**
   * Target bytes per shard when `shards` is not given: N = ceil(total / shardSize), and at
   * least one shard per unit larger than `shardSize` plus enough for the rest.
   */
  shardSize?: number;
}

export interface Shard<T> {
  index: number;
  /** Bytes to fetch for this shard (each blob once). */
  bytes: number;
  files: T[];
}

export interface ShardPlan<T> {
  shards: Shard<T>[];
  /** Bytes of the heaviest and the lightest shard (0/0 when there are none). */
  spread: { largest: number; smallest: number };
}

interface Unit<T> {
  blob: string;
  bytes: number;
  files: T[];
}

/** Split files into byte-balanced shards; empty shards are never created. */
export function assignShards<T extends ShardableFile>(params: AssignShardsParams<T>): ShardPlan<T> {
  const units = groupByBlob(params.files);
  const count = Math.min(shardCount(params, units), units.length);
  const shards: Shard<T>[] = Array.from({ length: count }, (_, index) => ({ index, bytes: 0, files: [] }));
  // Ties (zero-byte files, equal sizes) go to the shard with fewer files, then the lower index,
  // so the result is deterministic and small files are spread too.
  const heap = new MinHeap<Shard<T>>((a, b) =>
    a.bytes !== b.bytes ? a.bytes < b.bytes : a.files.length !== b.files.length ? a.files.length < b.files.length : a.index < b.index,
  );
  for (const s of shards) heap.push(s);
  for (const unit of units) {
    const lightest = heap.pop() as Shard<T>;
    lightest.bytes += unit.bytes;
    for (const f of unit.files) lightest.files.push(f);
    heap.push(lightest);
  }
  let largest = 0;
  let smallest = count > 0 ? Infinity : 0;
  for (const s of shards) {
    largest = Math.max(largest, s.bytes);
    smallest = Math.min(smallest, s.bytes);
  }
  return { shards, spread: { largest, smallest } };
}

/** Units sorted largest first (then by blob, for a deterministic result). */
function groupByBlob<T extends ShardableFile>(files: readonly T[]): Unit<T>[] {
  const byBlob = new Map<string, Unit<T>>();
  for (const f of files) {
    const u = byBlob.get(f.blob);
    if (u) {
      // A blob already done for one path may still be pending for another: fetch it once.
      u.bytes = Math.max(u.bytes, f.bytes);
      u.files.push(f);
    } else {
      byBlob.set(f.blob, { blob: f.blob, bytes: f.bytes, files: [f] });
    }
  }
  return [...byBlob.values()].sort((a, b) => b.bytes - a.bytes || (a.blob < b.blob ? -1 : a.blob > b.blob ? 1 : 0));
}

function shardCount<T>(params: AssignShardsParams<ShardableFile>, units: Unit<T>[]): number {
  const { shards, shardSize } = params;
  if (shards !== undefined) {
    if (!Number.isSafeInteger(shards) || shards < 1) {
      throw new UsageError(`Expected \`shards\` to be a positive integer, got \`${shards}\``, { hint: 'pass --shards N with N >= 1' });
    }
    return shards;
  }
  if (shardSize === undefined || !Number.isFinite(shardSize) || shardSize <= 0) {
    throw new UsageError(`Expected \`shardSize\` to be a positive number of bytes, got \`${shardSize}\``, {
      hint: 'pass --shards N or --shard-size SIZE (e.g. 200GB)',
    });
  }
  let total = 0;
  let big = 0;
  let smallTotal = 0;
  for (const u of units) {
    total += u.bytes;
    if (u.bytes > shardSize) big += 1;
    else smallTotal += u.bytes;
  }
  return Math.max(1, Math.ceil(total / shardSize), big + Math.ceil(smallTotal / shardSize));
}

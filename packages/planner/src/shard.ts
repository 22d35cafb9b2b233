// Cost-balanced sharding (pure). Files that share a blob are one download unit: they go to
// the same shard and their cost counts once. A unit costs its bytes plus a per-request
// overhead (shard-cost.ts), so many small files weigh what their requests take. Units are
// placed largest-first into the currently lightest shard that has room for their files (LPT),
// which keeps the spread small and gives every unit costing more than the target shard size a
// shard of its own (the lightest shard is never above the target while such a unit is placed).
import { MinHeap } from './min-heap.js';
import { DEFAULT_MAX_FILES_PER_SHARD, PER_FILE_OVERHEAD_BYTES, fileCost, shardCount } from './shard-cost.js';

export interface ShardableFile {
  /** Download identity (sha256 for LFS files, git blob sha1 otherwise). */
  blob: string;
  /** Bytes this file costs to fetch: its size, or 0 when it is already done. */
  bytes: number;
}

export interface AssignShardsParams<T extends ShardableFile> {
  files: readonly T[];
  /**
   * This many shards (fewer when there are fewer download units, more when this many would
   * hold more than `maxFilesPerShard` files each).
   */
  shards?: number;
  /**
   * Target cost per shard when `shards` is not given: N = ceil(total cost / shardSize), and at
   * least one shard per unit costing more than `shardSize` plus enough for the rest.
   */
  shardSize?: number;
  /**
   * At most this many files per shard (default DEFAULT_MAX_FILES_PER_SHARD); only a blob shared
   * by more paths than this exceeds it (in a shard of its own).
   */
  maxFilesPerShard?: number;
  /** Array tasks at once: a plan sized by `shardSize` with many files gets up to this many shards. */
  maxParallel?: number;
  /** Cost of one request in bytes (default PER_FILE_OVERHEAD_BYTES). */
  perFileOverhead?: number;
}

export interface Shard<T> {
  index: number;
  /** Bytes to fetch for this shard (each blob once). */
  bytes: number;
  /** Bytes plus the per-request overhead of each unit with something to fetch. */
  cost: number;
  files: T[];
}

export interface ShardPlan<T> {
  shards: Shard<T>[];
  /** Bytes of the heaviest and the lightest shard (0/0 when there are none). */
  spread: { largest: number; smallest: number };
  /** Cost of the heaviest and the lightest shard (0/0 when there are none). */
  costSpread: { largest: number; smallest: number };
}

interface Unit<T> {
  blob: string;
  bytes: number;
  cost: number;
  files: T[];
}

/** Split files into cost-balanced shards; empty shards are never created. */
export function assignShards<T extends ShardableFile>(params: AssignShardsParams<T>): ShardPlan<T> {
  const overhead = params.perFileOverhead ?? PER_FILE_OVERHEAD_BYTES;
  const maxFiles = params.maxFilesPerShard ?? DEFAULT_MAX_FILES_PER_SHARD;
  const units = groupByBlob(params.files, overhead);
  const wanted = shardCount({
    unitCosts: units.map((u) => u.cost),
    files: params.files.length,
    shards: params.shards,
    shardSize: params.shardSize,
    maxFilesPerShard: maxFiles,
    maxParallel: params.maxParallel,
  });
  const count = Math.min(wanted, units.length);
  const shards: Shard<T>[] = [];
  const open = (): Shard<T> => {
    const s: Shard<T> = { index: shards.length, bytes: 0, cost: 0, files: [] };
    shards.push(s);
    return s;
  };
  // Ties (zero-cost files, equal sizes) go to the shard with fewer files, then the lower index,
  // so the result is deterministic and small files are spread too.
  const heap = new MinHeap<Shard<T>>((a, b) =>
    a.cost !== b.cost ? a.cost < b.cost : a.files.length !== b.files.length ? a.files.length < b.files.length : a.index < b.index,
  );
  for (let i = 0; i < count; i++) heap.push(open());
  const setAside: Shard<T>[] = [];
  for (const unit of units) {
    // The lightest shard with room; full ones leave the heap for good, those short of room
    // for this (multi-path) unit come back after it.
    let target: Shard<T> | undefined;
    for (let s = heap.pop(); s; s = heap.pop()) {
      if (s.files.length + unit.files.length <= maxFiles || s.files.length === 0) {
        target = s;
        break;
      }
      if (s.files.length < maxFiles) setAside.push(s);
    }
    target ??= open();
    target.bytes += unit.bytes;
    target.cost += unit.cost;
    for (const f of unit.files) target.files.push(f);
    heap.push(target);
    for (const s of setAside) heap.push(s);
    setAside.length = 0;
  }
  return { shards, spread: spreadOf(shards, (s) => s.bytes), costSpread: spreadOf(shards, (s) => s.cost) };
}

function spreadOf<T>(shards: readonly Shard<T>[], value: (s: Shard<T>) => number): { largest: number; smallest: number } {
  let largest = 0;
  let smallest = shards.length > 0 ? Infinity : 0;
  for (const s of shards) {
    largest = Math.max(largest, value(s));
    smallest = Math.min(smallest, value(s));
  }
  return { largest, smallest };
}

/** Units sorted costliest first (then by blob, for a deterministic result). */
function groupByBlob<T extends ShardableFile>(files: readonly T[], overhead: number): Unit<T>[] {
  const byBlob = new Map<string, Unit<T>>();
  for (const f of files) {
    const u = byBlob.get(f.blob);
    if (u) {
      // A blob already done for one path may still be pending for another: fetch it once.
      u.bytes = Math.max(u.bytes, f.bytes);
      u.files.push(f);
    } else {
      byBlob.set(f.blob, { blob: f.blob, bytes: f.bytes, cost: 0, files: [f] });
    }
  }
  const units = [...byBlob.values()];
  for (const u of units) u.cost = fileCost(u.bytes, overhead);
  return units.sort((a, b) => b.cost - a.cost || (a.blob < b.blob ? -1 : a.blob > b.blob ? 1 : 0));
}

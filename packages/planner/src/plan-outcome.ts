import type { CarriedState, ChangeCounts, PlannedFile } from './carry-state.js';
import type { CollectedDataset } from './collect-dataset.js';
import type { PlanSettings } from './plan-settings.js';
import type { PreflightResult } from './preflight.js';
import type { ShardPlan } from './shard.js';

export interface DatasetOutcome {
  repo: string;
  revision: string;
  commit: string;
  gated: false | 'auto' | 'manual';
  /** Files selected by include/exclude, and their bytes. */
  files: number;
  bytes: number;
  /** What changed since the plan this one replaces. */
  changes: ChangeCounts;
}

export interface PlanOutcome {
  /** The stored plan's id; null for a dry run. */
  planId: number | null;
  dryRun: boolean;
  root: string;
  dbPath: string;
  hubUrl: string;
  datasets: DatasetOutcome[];
  /** Datasets of the replaced plan that this manifest no longer has. */
  dropped: { repo: string; files: number }[];
  files: number;
  bytes: number;
  /** Bytes still to download (each blob once; done and already verified blobs cost nothing). */
  bytesToFetch: number;
  shards: number;
  /** Indices of the shards with a file not done yet: the array covers these and no others. */
  shardsToRun: number[];
  /** Heaviest and lightest shard, in bytes still to fetch. */
  spread: { largest: number; smallest: number };
  maxParallel: number;
  /** Free bytes on the root's filesystem at pre-flight. */
  freeBytes: number;
  scripts: string[];
  jobIds: string[];
}

/** The plan before it is stored (what a dry run prints): per dataset, totals, shards, free space. */
export function planOutcome(p: {
  collected: readonly CollectedDataset[];
  carried: CarriedState;
  sharded: ShardPlan<PlannedFile>;
  previousFiles: ReadonlyMap<string, ReadonlyMap<string, unknown>>;
  config: { root: string; dbPath: string; hubUrl: string };
  settings: PlanSettings;
  pre: PreflightResult;
  bytesToFetch: number;
  shardsToRun: number[];
  dryRun: boolean;
}): PlanOutcome {
  const { collected, carried, sharded, config } = p;
  const datasets: DatasetOutcome[] = collected.map((c) => ({
    repo: c.spec.repo,
    revision: c.spec.revision,
    commit: c.pinned.commit,
    gated: c.pinned.gated,
    files: c.files.length,
    bytes: c.files.reduce((sum, f) => sum + f.size, 0),
    changes: carried.changes.get(c.spec.repo)!,
  }));
  const dropped = [...p.previousFiles]
    .filter(([repo]) => !collected.some((c) => c.spec.repo === repo))
    .map(([repo, paths]) => ({ repo, files: paths.size }));
  return {
    planId: null,
    dryRun: p.dryRun,
    root: config.root,
    dbPath: config.dbPath,
    hubUrl: config.hubUrl,
    datasets,
    dropped,
    files: carried.files.length,
    bytes: datasets.reduce((sum, d) => sum + d.bytes, 0),
    bytesToFetch: p.bytesToFetch,
    shards: sharded.shards.length,
    shardsToRun: p.shardsToRun,
    spread: sharded.spread,
    maxParallel: p.settings.maxParallel,
    freeBytes: p.pre.freeBytes,
    scripts: [],
    jobIds: [],
  };
}

// Idempotent re-planning: decide for every listed file whether it is already done and what it
// still costs to fetch, and count what changed against the plan being replaced.
// A file is done when an earlier plan verified its blob AND it is in place under the pinned
// commit's snapshot (the link resolves to a file of the listed size). A file whose blob is
// verified on disk but not yet linked under this commit (the commit moved, the file did not)
// stays pending at zero cost: the worker only links it.
import { stat as fsStat } from 'node:fs/promises';
import { cacheLayout, type BlobState, type HubFile, type PlanFileState } from '@hfhpc/core';
import type { CollectedDataset } from './collect-dataset.js';

/** A file as it goes into the store (shaped like core's `NewPlanFile`, so it is passed as is). */
export interface PlannedFile extends HubFile {
  datasetRepo: string;
  /** Cache blob name: lfsSha256 else oid. */
  blob: string;
  state: 'pending' | 'done';
  /** Bytes still to download for it: 0 when done or when its blob is already verified on disk. */
  bytes: number;
  /** Set by the sharder's caller; -1 until then. */
  shardIdx: number;
}

/** Per dataset: the counts partition the files planned now (plus `removed`, gone since). */
export interface ChangeCounts {
  /** Paths the replaced plan did not have. */
  new: number;
  /** Paths whose blob differs from the replaced plan's (a new commit changed them). */
  changed: number;
  /** Paths of the replaced plan that are gone (deleted upstream, excluded, or dataset dropped). */
  removed: number;
  /** Same blob as before, still to fetch or link. */
  unchanged: number;
  /** Verified and in place already: not fetched again. */
  done: number;
}

export type StatFn = (path: string) => Promise<{ size: number; isFile(): boolean } | null>;

export interface CarryStateParams {
  datasets: readonly CollectedDataset[];
  /** The replaced plan's files (repo → path → blob/state); empty for a first plan. */
  previous: ReadonlyMap<string, ReadonlyMap<string, PlanFileState>>;
  /** What any earlier plan recorded per blob (core `fileStatesByBlob`). */
  blobStates: ReadonlyMap<string, BlobState>;
  /** Download root. */
  root: string;
  /** Everything back to pending at full cost (a full re-download). Default false. */
  force?: boolean;
  /** `stat` following symlinks; null when missing. Default: `fs.promises.stat`. */
  stat?: StatFn;
  /** How many stats run at once (they are slow on parallel filesystems). Default 64. */
  statConcurrency?: number;
}

export interface CarriedState {
  files: PlannedFile[];
  changes: Map<string, ChangeCounts>;
}

const defaultStat: StatFn = async (p) => {
  try {
    return await fsStat(p);
  } catch {
    return null;
  }
};

export async function carryState(params: CarryStateParams): Promise<CarriedState> {
  const { previous, blobStates, root, force = false, stat = defaultStat, statConcurrency = 64 } = params;
  const files: PlannedFile[] = [];
  const changes = new Map<string, ChangeCounts>();
  const checks: (() => Promise<void>)[] = [];

  for (const ds of params.datasets) {
    const repo = ds.spec.repo;
    const layout = cacheLayout(root, repo);
    const before = previous.get(repo);
    const counts: ChangeCounts = { new: 0, changed: 0, removed: 0, unchanged: 0, done: 0 };
    changes.set(repo, counts);
    const seen = new Set<string>();
    for (const f of ds.files) {
      if (before) seen.add(f.path);
      const blob = f.lfsSha256 ?? f.oid;
      // Properties spelled out: an object spread costs far more, once per file of the plan.
      const planned: PlannedFile = {
        path: f.path,
        size: f.size,
        oid: f.oid,
        lfsSha256: f.lfsSha256,
        datasetRepo: repo,
        blob,
        state: 'pending',
        bytes: f.size,
        shardIdx: -1,
      };
      files.push(planned);
      const prev = before?.get(f.path);
      const kind = prev === undefined ? 'new' : prev.blob !== blob ? 'changed' : 'unchanged';
      if (force || !blobStates.get(blob)?.done) {
        counts[kind] += 1;
        continue;
      }
      checks.push(async () => {
        const placed = await stat(layout.snapshotPath(ds.pinned.commit, f.path));
        if (placed?.isFile() && placed.size === f.size) {
          planned.state = 'done';
          planned.bytes = 0;
          counts.done += 1;
          return;
        }
        counts[kind] += 1;
        const cached = await stat(layout.blobPath(blob));
        if (cached?.isFile() && cached.size === f.size) planned.bytes = 0;
      });
    }
    if (before) for (const p of before.keys()) if (!seen.has(p)) counts.removed += 1;
  }
  for (const [repo, before] of previous) {
    if (!changes.has(repo)) changes.set(repo, { new: 0, changed: 0, removed: before.size, unchanged: 0, done: 0 });
  }
  for (let i = 0; i < checks.length; i += statConcurrency) {
    await Promise.all(checks.slice(i, i + statConcurrency).map((check) => check()));
  }
  return { files, changes };
}

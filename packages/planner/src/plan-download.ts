// `hfhpc plan`: manifest → pinned file lists → byte-balanced shards → one stored plan →
// batch scripts (→ sbatch). Every check that can refuse the plan (manifest, allow-list, Slurm
// settings, Hub answers, unsafe paths, gating, pre-flight) runs before the first write, so a
// refused plan leaves no database, no plan row and no file behind.
import { existsSync } from 'node:fs';
import {
  UsageError,
  fileStatesByBlob,
  findToken,
  latestPlan,
  listShards,
  openStore,
  readPlanFiles,
  type BlobState,
  type HubClientOptions,
  type PlanFileState as PreviousFile,
  type Logger,
  type RuntimeArgv,
  type Store,
} from '@hfhpc/core';
import { carryState, type CarriedState, type StatFn } from './carry-state.js';
import { collectDataset, type CollectedDataset } from './collect-dataset.js';
import { checkPlanInputs, type PlanInputs } from './plan-inputs.js';
import { planOutcome, type PlanOutcome } from './plan-outcome.js';
import type { PlanSettingsInput } from './plan-settings.js';
import { preflight, type PreflightParams } from './preflight.js';
import type { PlanWorkSettings } from './render-plan-scripts.js';
import { assignShards, type ShardPlan } from './shard.js';
import type { Exec } from '@hfhpc/scheduler';
import type { SubmitSeams } from './submit-scripts.js';
import { storePlan } from './store-plan.js';

export type { DatasetOutcome, PlanOutcome } from './plan-outcome.js';

export interface PlanDownloadParams extends PlanSettingsInput, SubmitSeams {
  /** `--manifest F`. */
  manifestPath: string;
  /** Global options (`--root`, `--db`, `--hub-url`, log settings); absent = not given. */
  argv?: RuntimeArgv;
  /** Default `process.env` (token, HFHPC_*, HF_ENDPOINT). */
  env?: NodeJS.ProcessEnv;
  /** Relative paths resolve against this. Default `process.cwd()`. */
  cwd?: string;
  /** Print the plan, write nothing. Default false. */
  dryRun?: boolean;
  /** Every file back to pending and no free-space veto. Default false. */
  force?: boolean;
  /** Run `sbatch --parsable` on each script and record the job ids. Default false. */
  submit?: boolean;
  /** `--max-array-size`: used when `scontrol show config` does not say. Default 1001. */
  maxArraySize?: number;
  /**
   * Ask `scontrol show config` for MaxArraySize. Default true; false (`run --local`: the local
   * scheduler has no limit) uses `maxArraySize` without running scontrol, which waits seconds
   * when Slurm's client is installed but no controller answers.
   */
  askSlurm?: boolean;
  /** `--concurrency` / `--lease-ttl` written into the work command (kept for re-submits). Default: none. */
  work?: PlanWorkSettings;
  /** Absolute Node and hfhpc entry the scripts run. Defaults: this Node, the CLI beside this package. */
  nodePath?: string;
  hfhpcBin?: string;
  /** Folder of the batch-script templates. Default: the repo's slurm-templates/. */
  templateDir?: string;
  /** Log lines go here (stderr). Default: a logger from the runtime config. */
  logger?: Logger;
  /** Transport for Hub requests. Default: global fetch. */
  fetch?: typeof fetch;
  /** Hub retry seams (tests): attempts and backoff. */
  hubRetry?: Pick<HubClientOptions, 'maxAttempts' | 'retryBaseMs' | 'retryCapMs' | 'sleep'>;
  /** Filesystem seams (tests). */
  statfs?: PreflightParams['statfs'];
  stat?: StatFn;
  /** Runs `scontrol` and `sbatch`. Default: execa. */
  exec?: Exec;
  /** Clock for the store. Default Date.now. */
  now?: () => number;
}

export async function planDownload(params: PlanDownloadParams): Promise<PlanOutcome> {
  const dryRun = params.dryRun ?? false;
  const force = params.force ?? false;
  // 1. Manifest, allow-list and settings: no network yet.
  const input = await checkPlanInputs(params);
  const { config, logger } = input;
  // 2. Pin, list, filter (network; nothing written).
  const collected = await collectDatasets(params, input);
  // 3. Carry state over from the plan this one replaces, then shard.
  const before = readBefore(config.dbPath, collected, params.now ?? Date.now);
  if (before.liveShards > 0) {
    logger.warn(`plan ${before.planId} still has ${before.liveShards} shard(s) leased by running tasks; they keep working on plan ${before.planId}: cancel its jobs before submitting the new plan`);
  }
  const carried = await carryState({ datasets: collected, previous: before.files, blobStates: before.blobStates, root: config.root, force, stat: params.stat });
  const { sharded, bytesToFetch, shardsToRun } = shardPlan(input, carried);
  // 4. Pre-flight: the root can take what is left to fetch.
  const pre = await preflight({ root: config.root, bytesToFetch, force, statfs: params.statfs });
  if (pre.forcedPastShortage) logger.warn(`only ${pre.freeBytes} bytes free under ${config.root} for ${bytesToFetch} to fetch; planning anyway (--force)`);
  const outcome = planOutcome({ collected, carried, sharded, previousFiles: before.files, config, settings: input.settings, pre, bytesToFetch, shardsToRun, dryRun });
  if (dryRun) return outcome;
  // 5. Store the plan in one transaction; then the cache metadata; then the scripts.
  return storePlan({ params, input, collected, files: carried.files, sharded, force, outcome });
}

/** Pin each dataset's revision and list and filter its files (Hub requests; nothing written). */
async function collectDatasets(params: PlanDownloadParams, input: PlanInputs): Promise<CollectedDataset[]> {
  const { config, logger, manifest, env } = input;
  const { token } = await findToken({ env });
  const hub: HubClientOptions = {
    hubUrl: config.hubUrl,
    accessToken: token,
    fetch: params.fetch,
    ...params.hubRetry,
    onRetry: (r) => logger.warn(`Hub request failed (${r.reason}); retry ${r.attempt} in ${Math.round(r.delayMs / 100) / 10} s`),
  };
  const collected: CollectedDataset[] = [];
  for (const spec of manifest.datasets) collected.push(await collectDataset({ spec, hub, logger }));
  return collected;
}

interface ShardedPlan {
  sharded: ShardPlan<CarriedState['files'][number]>;
  bytesToFetch: number;
  /** A shard whose files are all done is stored done; no array task is spent on it. */
  shardsToRun: number[];
}

/** Byte-balanced shards of the files (each file gets its shard index); refuses a plan with no file. */
function shardPlan(input: PlanInputs, carried: CarriedState): ShardedPlan {
  const { manifest, settings } = input;
  if (carried.files.length === 0) {
    throw new UsageError(`nothing to plan: no file of ${manifest.datasets.map((d) => d.repo).join(', ')} matches the include/exclude globs`, {
      hint: `check include/exclude in ${manifest.path}`,
    });
  }
  const sharded = assignShards({ files: carried.files, shards: settings.shards, shardSize: settings.shardSize, maxFilesPerShard: settings.maxFilesPerShard, maxParallel: settings.maxParallel });
  for (const s of sharded.shards) for (const f of s.files) f.shardIdx = s.index;
  const bytesToFetch = sharded.shards.reduce((sum, s) => sum + s.bytes, 0);
  const shardsToRun = sharded.shards.filter((s) => s.files.some((f) => f.state !== 'done')).map((s) => s.index);
  return { sharded, bytesToFetch, shardsToRun };
}

interface Before {
  planId: number | null;
  files: Map<string, Map<string, PreviousFile>>;
  blobStates: Map<string, BlobState>;
  /** Shards of the current plan whose lease has not expired. */
  liveShards: number;
}

/** The current plan's files and what any plan verified, read-only; nothing when there is no database. */
function readBefore(dbPath: string, collected: readonly CollectedDataset[], now: () => number): Before {
  if (!existsSync(dbPath)) return { planId: null, files: new Map(), blobStates: new Map(), liveShards: 0 };
  let store: Store | undefined;
  try {
    store = openStore({ path: dbPath, readonly: true });
    const current = latestPlan(store);
    const files = current ? readPlanFiles(store, current.id) : new Map<string, Map<string, PreviousFile>>();
    const blobStates = fileStatesByBlob(store, collected.flatMap((c) => c.files.map((f) => f.lfsSha256 ?? f.oid)));
    const at = now();
    const liveShards = current ? listShards(store, current.id).filter((s) => s.state === 'running' && (s.leaseExpiresAt ?? 0) > at).length : 0;
    return { planId: current?.id ?? null, files, blobStates, liveShards };
  } finally {
    store?.close();
  }
}

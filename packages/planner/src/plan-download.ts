// `hfhpc plan`: manifest → pinned file lists → byte-balanced shards → one stored plan →
// batch scripts (→ sbatch). Every check that can refuse the plan (manifest, allow-list, Slurm
// settings, Hub answers, unsafe paths, gating, pre-flight) runs before the first write, so a
// refused plan leaves no database, no plan row and no file behind.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import {
  UsageError,
  checkRepoId,
  createLogger,
  createPlan,
  fileStatesByBlob,
  findToken,
  latestPlan,
  listShards,
  loadManifest,
  openStore,
  resolveRuntimeConfig,
  writeRef,
  writeTree,
  type BlobState,
  type HubClientOptions,
  type Logger,
  type RuntimeArgv,
  type Store,
} from '@hfhpc/core';
import { carryState, type ChangeCounts, type StatFn } from './carry-state.js';
import { checkCacheDirs } from './check-cache-dirs.js';
import { collectDataset, type CollectedDataset } from './collect-files.js';
import { resolvePlanSettings, type PlanSettingsInput } from './plan-settings.js';
import { timeLeadWarning } from './sbatch/check-values.js';
import { assertRootWritable, preflight, type PreflightParams } from './preflight.js';
import { readPlanFiles, type PreviousFile } from './previous-plan.js';
import { renderPlanScripts, type PlanWorkSettings } from './render-plan-scripts.js';
import { assignShards } from './shard.js';
import { detectMaxArraySize } from './sbatch/max-array-size.js';
import type { Exec } from './scheduler/exec.js';
import { submitScripts, type SubmitSeams } from './submit-scripts.js';

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

export async function planDownload(params: PlanDownloadParams): Promise<PlanOutcome> {
  const env = params.env ?? process.env;
  const dryRun = params.dryRun ?? false;
  const force = params.force ?? false;

  // 1. Manifest, allow-list and settings: no network yet.
  const manifest = await loadManifest(params.manifestPath, { env });
  for (const d of manifest.datasets) checkRepoId(d.repo, manifest.allowPrefixes);
  const config = resolveRuntimeConfig({ argv: params.argv, env, manifest, cwd: params.cwd });
  const logger = params.logger ?? createLogger({ format: config.logFormat, level: config.logLevel, quiet: config.quiet });
  const settings = resolvePlanSettings(params, manifest);
  const leadWarning = timeLeadWarning(settings.slurm);
  if (leadWarning) logger.warn(leadWarning);
  // Render once in memory so a bad Slurm setting fails now, not after the Hub was listed.
  await renderPlanScripts({
    planId: 1,
    root: config.root,
    dbPath: config.dbPath,
    hubUrl: config.hubUrl,
    indices: [0],
    maxParallel: settings.maxParallel,
    maxArraySize: 1,
    slurm: settings.slurm,
    work: params.work,
    nodePath: params.nodePath,
    hfhpcBin: params.hfhpcBin,
    templateDir: params.templateDir,
    write: false,
  });

  // The root must be usable before the Hub is asked anything (a listing can take minutes).
  await assertRootWritable({ root: config.root });

  // No planted symlink among the cache folders (nothing is read or written through one): checked
  // before the first request, so a refused plan costs no Hub quota either.
  const dirs = await checkCacheDirs({ root: config.root, repos: manifest.datasets.map((d) => d.repo), allowSymlinkedDirs: manifest.allowSymlinkedDirs });

  // 2. Pin, list, filter (network; nothing written).
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

  // 3. Carry state over from the plan this one replaces, then shard.
  const before = readBefore(config.dbPath, collected, params.now ?? Date.now);
  if (before.liveShards > 0) {
    logger.warn(`plan ${before.planId} still has ${before.liveShards} shard(s) leased by running tasks; they keep working on plan ${before.planId}: cancel its jobs before submitting the new plan`);
  }
  const carried = await carryState({
    datasets: collected,
    previous: before.files,
    blobStates: before.blobStates,
    root: config.root,
    force,
    stat: params.stat,
  });
  if (carried.files.length === 0) {
    throw new UsageError(`nothing to plan: no file of ${manifest.datasets.map((d) => d.repo).join(', ')} matches the include/exclude globs`, {
      hint: `check include/exclude in ${manifest.path}`,
    });
  }
  const sharded = assignShards({ files: carried.files, shards: settings.shards, shardSize: settings.shardSize, maxFilesPerShard: settings.maxFilesPerShard, maxParallel: settings.maxParallel });
  for (const s of sharded.shards) for (const f of s.files) f.shardIdx = s.index;
  const bytesToFetch = sharded.shards.reduce((sum, s) => sum + s.bytes, 0);
  // A shard whose files are all done is stored done; no array task is spent on it.
  const shardsToRun = sharded.shards.filter((s) => s.files.some((f) => f.state !== 'done')).map((s) => s.index);

  // 4. Pre-flight: the root can take what is left to fetch.
  const pre = await preflight({ root: config.root, bytesToFetch, force, statfs: params.statfs });
  if (pre.forcedPastShortage) logger.warn(`only ${pre.freeBytes} bytes free under ${config.root} for ${bytesToFetch} to fetch; planning anyway (--force)`);

  const datasets: DatasetOutcome[] = collected.map((c) => ({
    repo: c.spec.repo,
    revision: c.spec.revision,
    commit: c.pinned.commit,
    gated: c.pinned.gated,
    files: c.files.length,
    bytes: c.files.reduce((sum, f) => sum + f.size, 0),
    changes: carried.changes.get(c.spec.repo)!,
  }));
  const dropped = [...before.files]
    .filter(([repo]) => !collected.some((c) => c.spec.repo === repo))
    .map(([repo, paths]) => ({ repo, files: paths.size }));
  const outcome: PlanOutcome = {
    planId: null,
    dryRun,
    root: config.root,
    dbPath: config.dbPath,
    hubUrl: config.hubUrl,
    datasets,
    dropped,
    files: carried.files.length,
    bytes: datasets.reduce((sum, d) => sum + d.bytes, 0),
    bytesToFetch,
    shards: sharded.shards.length,
    shardsToRun,
    spread: sharded.spread,
    maxParallel: settings.maxParallel,
    freeBytes: pre.freeBytes,
    scripts: [],
    jobIds: [],
  };
  if (dryRun) return outcome;

  // 5. Store the plan in one transaction; then the cache metadata; then the scripts.
  await mkdir(config.root, { recursive: true });
  const store = openStore({ path: config.dbPath, now: params.now });
  try {
    const planId = createPlan(store, {
      manifestPath: manifest.path,
      manifestSha256: manifest.sha256,
      root: config.root,
      hubUrl: config.hubUrl,
      options: { shards: settings.shards, shardSize: settings.shardSize, maxParallel: settings.maxParallel, maxFilesPerShard: settings.maxFilesPerShard, slurm: settings.slurm, work: params.work ?? {}, force, allowSymlinkedDirs: manifest.allowSymlinkedDirs },
      datasets: collected.map((c) => ({ repo: c.spec.repo, revision: c.spec.revision, commitSha: c.pinned.commit })),
      shards: sharded.shards.map((s) => ({
        idx: s.index,
        bytesTotal: s.files.reduce((sum, f) => sum + f.size, 0),
        filesTotal: s.files.length,
      })),
      // Listing order (sorted paths): the (dataset, path) index then grows at its end.
      files: carried.files,
    });
    outcome.planId = planId;
    logger.info(`plan ${planId} stored: ${outcome.files} files, ${outcome.shards} shards in ${config.dbPath}`);

    // The full listing goes into trees/ (as the Python client writes it); offline checks apply
    // the user's own allow/ignore patterns on top.
    for (const c of collected) {
      await writeRef({ root: config.root, repo: c.spec.repo, revision: c.spec.revision, commit: c.pinned.commit, dirs });
      await writeTree({ root: config.root, repo: c.spec.repo, commit: c.pinned.commit, files: c.all, dirs });
    }

    if (shardsToRun.length === 0) {
      logger.info(`plan ${planId}: every file is done; no script written, nothing to submit`);
      return outcome;
    }
    const maxArraySize = await detectMaxArraySize({ exec: params.exec, fallback: params.maxArraySize, env });
    const scripts = await renderPlanScripts({
      planId,
      root: config.root,
      dbPath: config.dbPath,
      hubUrl: config.hubUrl,
      indices: shardsToRun,
      maxParallel: settings.maxParallel,
      maxArraySize,
      slurm: settings.slurm,
      work: params.work,
      nodePath: params.nodePath,
      hfhpcBin: params.hfhpcBin,
      templateDir: params.templateDir,
      dirs,
    });
    outcome.scripts = scripts.map((s) => s.path);
    for (const s of scripts) logger.info(`wrote ${s.path} (--array=${s.arraySpec})`);

    if (params.submit) {
      try {
        outcome.jobIds = await submitScripts({ store, planId, scripts: outcome.scripts, scheduler: params.scheduler, exec: params.exec, env, logger });
      } catch (err) {
        // The plan itself is fine: say where it is, so fixing the Slurm side is all that is left.
        logger.warn(`plan ${planId} is stored and its scripts are written (${outcome.scripts.join(', ')}); submit them with sbatch once Slurm accepts them`);
        throw err;
      }
    }
    return outcome;
  } finally {
    store.close();
  }
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

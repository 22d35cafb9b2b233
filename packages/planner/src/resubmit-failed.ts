// `hfhpc plan --resubmit-failed`: the current plan's failed shards (and their failed files)
// go back to pending, and an array of just those indices (`--array=3,17,42`) is rendered and
// submitted with the plan's own settings. Nothing is listed on the Hub again.
import {
  StateError,
  createLogger,
  failedShardIndices,
  latestPlan,
  openStore,
  resetFailedShards,
  resolveRuntimeConfig,
  type Logger,
  type RuntimeArgv,
} from '@hfhpc/core';
import type { PlanSlurmSettings, PlanWorkSettings } from './render-plan-scripts.js';
import { renderPlanScripts } from './render-plan-scripts.js';
import { timeLeadWarning } from './sbatch/check-values.js';
import { detectMaxArraySize, type Exec } from '@hfhpc/scheduler';
import { submitScripts, type SubmitSeams } from './submit-scripts.js';

export interface ResubmitFailedParams extends SubmitSeams {
  /** Global options (`--root`, `--db`, …); the database is found as for every command. */
  argv?: RuntimeArgv;
  /** `--manifest M` given with `--resubmit-failed`: its root locates the database (below `--root`/`HFHPC_ROOT`). */
  manifest?: { root?: string };
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Show which shards would be re-run; change and write nothing. Default false. */
  dryRun?: boolean;
  /** `--max-parallel`; default: the plan's. */
  maxParallel?: number;
  /** Slurm settings overriding the plan's (e.g. a longer `--time` for the retry). */
  slurm?: PlanSlurmSettings;
  /** Work-command options overriding the plan's (`--concurrency`, `--lease-ttl`). */
  work?: PlanWorkSettings;
  /** Used when `scontrol show config` does not say. Default 1001. */
  maxArraySize?: number;
  nodePath?: string;
  hfhpcBin?: string;
  templateDir?: string;
  logger?: Logger;
  exec?: Exec;
  now?: () => number;
}

export interface ResubmitOutcome {
  planId: number;
  /** The failed shards re-run, ascending. */
  shards: number[];
  scripts: string[];
  jobIds: string[];
  dryRun: boolean;
  /** The state database used. */
  dbPath: string;
}

export async function resubmitFailed(params: ResubmitFailedParams): Promise<ResubmitOutcome> {
  const env = params.env ?? process.env;
  const config = resolveRuntimeConfig({ argv: params.argv, env, cwd: params.cwd, manifest: params.manifest });
  const logger = params.logger ?? createLogger({ format: config.logFormat, level: config.logLevel, quiet: config.quiet });
  const dryRun = params.dryRun ?? false;
  const store = openStore({ path: config.dbPath, readonly: dryRun, create: false, now: params.now });
  try {
    const plan = latestPlan(store);
    if (!plan) {
      throw new StateError(`no plan in ${config.dbPath} to re-submit`, { hint: 'run `hfhpc plan --manifest F` first' });
    }
    const stored = plan.options as { maxParallel?: number; slurm?: PlanSlurmSettings; work?: PlanWorkSettings };
    const given = <T extends object>(o: T | undefined): Partial<T> => Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
    const slurm = { ...stored.slurm, ...given(params.slurm) };
    const work = { ...stored.work, ...given(params.work) };
    const maxParallel = params.maxParallel ?? stored.maxParallel;
    const leadWarning = timeLeadWarning(slurm);
    if (leadWarning) logger.warn(leadWarning);
    const render = (indices: number[], maxArraySize: number, write: boolean) =>
      renderPlanScripts({
        planId: plan.id,
        root: plan.root,
        dbPath: store.path,
        hubUrl: plan.hubUrl,
        indices,
        maxParallel,
        maxArraySize,
        slurm,
        work,
        name: 'resubmit',
        nodePath: params.nodePath,
        hfhpcBin: params.hfhpcBin,
        templateDir: params.templateDir,
        write,
      });
    if (dryRun) {
      return { planId: plan.id, shards: failedShardIndices(store, plan.id), scripts: [], jobIds: [], dryRun, dbPath: store.path };
    }
    // Settings are checked before any shard changes state.
    await render([0], 1, false);
    const shards = resetFailedShards(store, plan.id);
    if (shards.length === 0) {
      logger.info(`plan ${plan.id} has no failed shard; nothing to re-submit`);
      return { planId: plan.id, shards, scripts: [], jobIds: [], dryRun, dbPath: store.path };
    }
    logger.info(`plan ${plan.id}: ${shards.length} failed shard(s) back to pending: ${shards.join(',')}`);
    const maxArraySize = await detectMaxArraySize({ exec: params.exec, fallback: params.maxArraySize, env });
    const scripts = (await render(shards, maxArraySize, true)).map((s) => s.path);
    const jobIds = await submitScripts({ store, planId: plan.id, scripts, scheduler: params.scheduler, exec: params.exec, env, logger });
    return { planId: plan.id, shards, scripts, jobIds, dryRun, dbPath: store.path };
  } finally {
    store.close();
  }
}

import { mkdir } from 'node:fs/promises';
import { createPlan, openStore, writeRef, writeTree, type Store } from '@hfhpc/core';
import type { PlannedFile } from './carry-state.js';
import type { CollectedDataset } from './collect-dataset.js';
import type { PlanDownloadParams } from './plan-download.js';
import type { PlanInputs } from './plan-inputs.js';
import type { PlanOutcome } from './plan-outcome.js';
import { renderPlanScripts } from './render-plan-scripts.js';
import { DEFAULT_MAX_ARRAY_SIZE, detectMaxArraySize } from '@hfhpc/scheduler';
import type { ShardPlan } from './shard.js';
import { submitScripts } from './submit-scripts.js';

export interface StorePlanParams {
  params: PlanDownloadParams;
  input: PlanInputs;
  collected: readonly CollectedDataset[];
  /** The files in listing order (sorted paths), each with its shard index set. */
  files: PlannedFile[];
  sharded: ShardPlan<PlannedFile>;
  force: boolean;
  /** Filled in: plan id, scripts, job ids. */
  outcome: PlanOutcome;
}

/**
 * Step 5: store the plan in one transaction; then the cache metadata; then the scripts (and
 * submit them when asked).
 */
export async function storePlan(p: StorePlanParams): Promise<PlanOutcome> {
  const { params, input, outcome } = p;
  const { config, logger } = input;
  await mkdir(config.root, { recursive: true });
  const store = openStore({ path: config.dbPath, now: params.now });
  try {
    const planId = insertPlan(store, p);
    outcome.planId = planId;
    logger.info(`plan ${planId} stored: ${outcome.files} files, ${outcome.shards} shards in ${config.dbPath}`);
    await writeCacheMeta(p);
    if (outcome.shardsToRun.length === 0) {
      logger.info(`plan ${planId}: every file is done; no script written, nothing to submit`);
      return outcome;
    }
    await writeScripts(p, planId);
    if (params.submit) await submit(p, store, planId);
    return outcome;
  } finally {
    store.close();
  }
}

function insertPlan(store: Store, p: StorePlanParams): number {
  const { manifest, config, settings } = p.input;
  return createPlan(store, {
    manifestPath: manifest.path,
    manifestSha256: manifest.sha256,
    root: config.root,
    hubUrl: config.hubUrl,
    options: { shards: settings.shards, shardSize: settings.shardSize, maxParallel: settings.maxParallel, maxFilesPerShard: settings.maxFilesPerShard, slurm: settings.slurm, work: p.params.work ?? {}, force: p.force, allowSymlinkedDirs: manifest.allowSymlinkedDirs },
    datasets: p.collected.map((c) => ({ repo: c.spec.repo, revision: c.spec.revision, commitSha: c.pinned.commit })),
    shards: p.sharded.shards.map((s) => ({
      idx: s.index,
      bytesTotal: s.files.reduce((sum, f) => sum + f.size, 0),
      filesTotal: s.files.length,
    })),
    // Listing order (sorted paths): the (dataset, path) index then grows at its end.
    files: p.files,
  });
}

/**
 * The full listing goes into trees/ (as the Python client writes it); offline checks apply the
 * user's own allow/ignore patterns on top.
 */
async function writeCacheMeta(p: StorePlanParams): Promise<void> {
  const { config, dirs } = p.input;
  for (const c of p.collected) {
    await writeRef({ root: config.root, repo: c.spec.repo, revision: c.spec.revision, commit: c.pinned.commit, dirs });
    await writeTree({ root: config.root, repo: c.spec.repo, commit: c.pinned.commit, files: c.all, dirs });
  }
}

/** One batch script per array (as many as the cluster's array size limit asks for). */
async function writeScripts(p: StorePlanParams, planId: number): Promise<void> {
  const { params, outcome } = p;
  const { config, settings, dirs, env, logger } = p.input;
  const maxArraySize = params.askSlurm === false
    ? (params.maxArraySize ?? DEFAULT_MAX_ARRAY_SIZE)
    : await detectMaxArraySize({ exec: params.exec, fallback: params.maxArraySize, env });
  const scripts = await renderPlanScripts({
    planId,
    root: config.root,
    dbPath: config.dbPath,
    hubUrl: config.hubUrl,
    indices: outcome.shardsToRun,
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
}

async function submit(p: StorePlanParams, store: Store, planId: number): Promise<void> {
  const { params, outcome } = p;
  const { env, logger } = p.input;
  try {
    outcome.jobIds = await submitScripts({ store, planId, scripts: outcome.scripts, scheduler: params.scheduler, exec: params.exec, env, logger });
  } catch (err) {
    // The plan itself is fine: say where it is, so fixing the Slurm side is all that is left.
    logger.warn(`plan ${planId} is stored and its scripts are written (${outcome.scripts.join(', ')}); submit them with sbatch once Slurm accepts them`);
    throw err;
  }
}

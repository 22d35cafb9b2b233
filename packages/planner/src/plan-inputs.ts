import {
  checkRepoId,
  createLogger,
  loadManifest,
  resolveRuntimeConfig,
  type CacheDirs,
  type Logger,
  type Manifest,
  type RuntimeConfig,
} from '@hfhpc/core';
import { checkCacheDirs } from './check-cache-dirs.js';
import type { PlanDownloadParams } from './plan-download.js';
import { resolvePlanSettings, type PlanSettings } from './plan-settings.js';
import { assertRootWritable } from './preflight.js';
import { renderPlanScripts } from './render-plan-scripts.js';
import { timeLeadWarning } from './sbatch/check-values.js';

/** What the plan is made from, once every check that needs no network has passed. */
export interface PlanInputs {
  env: NodeJS.ProcessEnv;
  manifest: Manifest;
  config: RuntimeConfig;
  logger: Logger;
  settings: PlanSettings;
  /** The cache folders, checked for planted links. */
  dirs: CacheDirs;
}

/**
 * Step 1: manifest, allow-list, settings, the Slurm script (rendered in memory), the root and
 * its cache folders. No network, nothing written.
 */
export async function checkPlanInputs(params: PlanDownloadParams): Promise<PlanInputs> {
  const env = params.env ?? process.env;
  const manifest = await loadManifest(params.manifestPath, { env });
  for (const d of manifest.datasets) checkRepoId(d.repo, manifest.allowPrefixes);
  const config = resolveRuntimeConfig({ argv: params.argv, env, manifest, cwd: params.cwd });
  const logger = params.logger ?? createLogger({ format: config.logFormat, level: config.logLevel, quiet: config.quiet });
  const settings = resolvePlanSettings(params, manifest);
  const leadWarning = timeLeadWarning(settings.slurm);
  if (leadWarning) logger.warn(leadWarning);
  await checkScriptRenders(params, config, settings);

  // The root must be usable before the Hub is asked anything (a listing can take minutes).
  await assertRootWritable({ root: config.root });

  // No planted symlink among the cache folders (nothing is read or written through one): checked
  // before the first request, so a refused plan costs no Hub quota either.
  const dirs = await checkCacheDirs({ root: config.root, repos: manifest.datasets.map((d) => d.repo), allowSymlinkedDirs: manifest.allowSymlinkedDirs });
  return { env, manifest, config, logger, settings, dirs };
}

/** Render once in memory so a bad Slurm setting fails now, not after the Hub was listed. */
async function checkScriptRenders(params: PlanDownloadParams, config: RuntimeConfig, settings: PlanSettings): Promise<void> {
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
}

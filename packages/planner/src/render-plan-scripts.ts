// Turn a stored plan into the batch scripts to submit: one `download.sbatch` when every shard
// index fits under the cluster's MaxArraySize, else `download-0.sbatch`, `download-1.sbatch`…
// with task offsets; for a re-submit, arrays of just the chosen indices. The log folder is
// created first: Slurm fails a task whose output folder is missing before the script runs.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CacheDirs, isInside, type SlurmSettings } from '@hfhpc/core';
import { renderSbatch, type SbatchResources } from './sbatch/render.js';
import { arraysForIndices } from './sbatch/split-arrays.js';
import { readSbatchTemplate } from './sbatch/template.js';
import { workCommand } from './sbatch/work-command.js';
import { writeSbatchScript } from './sbatch/write-sbatch-script.js';

/** The Slurm settings a plan renders with (the manifest's `slurm:` block with the CLI on top). */
export type PlanSlurmSettings = Partial<SlurmSettings>;

/** Options of `hfhpc work` a plan writes into its scripts (`plan --concurrency/--lease-ttl/--worker-heap`). */
export interface PlanWorkSettings {
  /** `--concurrency C`; omitted: the worker's default (the task's CPUs). */
  concurrency?: number;
  /** `--lease-ttl S` in whole seconds; omitted: the worker's default (120). */
  leaseTtlSeconds?: number;
  /** `--progress-interval S` in whole seconds (`run --local`); omitted: the worker's default (30). */
  progressIntervalSeconds?: number;
  /** The worker's V8 old-generation cap in MiB; omitted: `DEFAULT_WORKER_HEAP_MIB`. */
  heapMib?: number;
}

export interface RenderPlanScriptsParams {
  planId: number;
  /** Absolute download root, state database and Hub URL the tasks use. */
  root: string;
  dbPath: string;
  hubUrl: string;
  /** Shard indices the arrays cover (all of them, or the failed ones). */
  indices: readonly number[];
  /** Tasks running at once over all arrays. Default: no throttle. */
  maxParallel?: number;
  /** The cluster's MaxArraySize. */
  maxArraySize: number;
  slurm: PlanSlurmSettings;
  /** Options for the work command. Default: none (the worker's defaults). */
  work?: PlanWorkSettings;
  /** Script name stem: `download` (default) or e.g. `resubmit`. */
  name?: string;
  /** Absolute Node binary the tasks run. Default `process.execPath`. */
  nodePath?: string;
  /** Absolute path of hfhpc's `bin.js`. Default: the CLI package next to this one. */
  hfhpcBin?: string;
  /** Folder of the templates. Default: the repo's slurm-templates/. */
  templateDir?: string;
  /** Write the scripts (and the log folder). Default true; false only renders (validation). */
  write?: boolean;
  /** The root's folder checker (the plan's, already used). Default: a new one. */
  dirs?: CacheDirs;
}

export interface RenderedScript {
  path: string;
  arraySpec: string;
  taskOffset: number;
  text: string;
}

/** `<root>/_hfhpc/plans/<id>`: a plan's scripts (and, by default, its logs) live here. */
/** The resource and mail settings of a plan's `slurm:` block, as both batch scripts take them. */
export function sbatchResources(slurm: PlanSlurmSettings): SbatchResources {
  const { jobName, partition, account, qos, time, mem, cpusPerTask, mailUser, mailType, extra } = slurm;
  return { jobName, partition, account, qos, time, mem, cpusPerTask, mailUser, mailType, extra };
}

export function planDir(root: string, planId: number): string {
  return path.join(root, '_hfhpc', 'plans', String(planId));
}

/** hfhpc's entry when the caller does not say: the CLI package beside this one (src/ or dist/). */
export const DEFAULT_HFHPC_BIN = fileURLToPath(new URL('../../cli/dist/bin.js', import.meta.url));

export async function renderPlanScripts(params: RenderPlanScriptsParams): Promise<RenderedScript[]> {
  const { planId, root, slurm, name = 'download', write = true } = params;
  const dir = planDir(root, planId);
  const outputDir = slurm.outputDir ?? path.join(dir, 'logs');
  const template = await readSbatchTemplate({ name: 'download-array', dir: params.templateDir });
  const chunks = arraysForIndices({ indices: params.indices, maxArraySize: params.maxArraySize, maxParallel: params.maxParallel });
  const scripts: RenderedScript[] = chunks.map((chunk, k) => {
    const text = renderSbatch({
      template,
      arraySpec: chunk.arraySpec,
      taskOffset: chunk.taskOffset,
      outputDir,
      ...sbatchResources(slurm),
      signalSeconds: slurm.signalSeconds,
      requeueMax: slurm.requeueMax,
      command: workCommand({
        nodePath: params.nodePath ?? process.execPath,
        hfhpcBin: params.hfhpcBin ?? DEFAULT_HFHPC_BIN,
        planId,
        taskOffset: chunk.taskOffset,
        db: params.dbPath,
        root,
        hubUrl: params.hubUrl,
        concurrency: params.work?.concurrency,
        leaseTtlSeconds: params.work?.leaseTtlSeconds,
        progressIntervalSeconds: params.work?.progressIntervalSeconds,
        heapMib: params.work?.heapMib,
      }),
    });
    const file = chunks.length === 1 ? `${name}.sbatch` : `${name}-${k}.sbatch`;
    return { path: path.join(dir, file), arraySpec: chunk.arraySpec, taskOffset: chunk.taskOffset, text };
  });
  if (write) {
    // Folders under the root are made one level at a time, never through a planted link; a log
    // folder elsewhere (slurm.output_dir) is the operator's and made with its parents.
    const dirs = params.dirs ?? new CacheDirs(root);
    await dirs.ensure(dir);
    if (isInside(root, outputDir)) await dirs.ensure(outputDir);
    for (const s of scripts) await writeSbatchScript({ scriptPath: s.path, script: s.text, outputDir });
  }
  return scripts;
}

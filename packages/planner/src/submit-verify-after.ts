import path from 'node:path';
import { openStore, resolvePlan, UsageError } from '@hfhpc/core';
import { DEFAULT_HFHPC_BIN, planDir, sbatchResources, type PlanSlurmSettings } from './render-plan-scripts.js';
import { renderVerifySbatch } from './sbatch/render.js';
import { readSbatchTemplate } from './sbatch/template.js';
import { verifyCommand } from './sbatch/work-command.js';
import { writeSbatchScript } from './sbatch/write-sbatch-script.js';
import type { Scheduler } from '@hfhpc/scheduler';

export interface SubmitVerifyAfterParams {
  /** Submits the script (`SlurmScheduler`). */
  scheduler: Pick<Scheduler, 'submit'>;
  /** The download arrays' job ids: verify starts once all of them completed successfully. */
  afterJobIds: readonly string[];
  planId: number;
  /** Absolute state database the verify job uses. */
  dbPath: string;
  /** Absolute download root. Default: the one stored with the plan. */
  root?: string;
  /** Resource settings (partition, account, time…). Default: the ones stored with the plan (the download array's). */
  slurm?: PlanSlurmSettings;
  /** Re-hash files already verified. Default false. */
  force?: boolean;
  /** Default `process.execPath`. */
  nodePath?: string;
  /** Default: this checkout's `packages/cli/dist/bin.js`. */
  hfhpcBin?: string;
  /** Folder of the templates. Default: the repo's slurm-templates/. */
  templateDir?: string;
}

export interface SubmittedVerify {
  scriptPath: string;
  jobId: string;
  dependency: string;
}

/**
 * `plan --verify-after`: render `verify.sbatch` into the plan's folder and submit it with
 * `--dependency=afterok:<array ids>`, so the whole download is re-hashed on the cluster as soon
 * as the last array task succeeded (Slurm drops it if a task failed: fix, resubmit, verify).
 */
export async function submitVerifyAfter(params: SubmitVerifyAfterParams): Promise<SubmittedVerify> {
  const { afterJobIds, planId, dbPath } = params;
  if (afterJobIds.length === 0) {
    throw new UsageError('--verify-after needs the download array to be submitted', { hint: 'add --submit' });
  }
  const stored = storedPlan(dbPath, planId);
  const slurm = params.slurm ?? stored.slurm;
  const root = params.root ?? stored.root;
  const dir = planDir(root, planId);
  const outputDir = slurm.outputDir ?? path.join(dir, 'logs');
  const script = renderVerifySbatch({
    template: await readSbatchTemplate({ name: 'verify', dir: params.templateDir }),
    outputDir,
    ...sbatchResources(slurm),
    jobName: `${slurm.jobName ?? 'hfhpc'}-verify`,
    command: verifyCommand({
      nodePath: params.nodePath ?? process.execPath,
      hfhpcBin: params.hfhpcBin ?? DEFAULT_HFHPC_BIN,
      db: dbPath,
      root,
      force: params.force,
    }),
  });
  const scriptPath = path.join(dir, 'verify.sbatch');
  await writeSbatchScript({ scriptPath, script, outputDir });
  const dependency = `afterok:${afterJobIds.join(':')}`;
  const jobId = await params.scheduler.submit({ scriptPath, dependency });
  return { scriptPath, jobId, dependency };
}

/** The root and Slurm settings `hfhpc plan` stored with the plan (manifest block with the CLI on top). */
function storedPlan(dbPath: string, planId: number): { root: string; slurm: PlanSlurmSettings } {
  const store = openStore({ path: dbPath, readonly: true });
  try {
    const plan = resolvePlan(store, planId, { missing: 'this is a bug in hfhpc; please report it' });
    return { root: plan.root, slurm: (plan.options as { slurm?: PlanSlurmSettings }).slurm ?? {} };
  } finally {
    store.close();
  }
}

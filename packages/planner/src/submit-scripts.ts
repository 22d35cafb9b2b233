// `--submit`: hand each rendered script to the scheduler (`sbatch --parsable`) and record the
// job ids on the plan. Ids of arrays submitted before a failure are recorded too, so status
// and a later re-submit know about every job that really exists.
import { getPlan, setPlanJobIds, type Logger, type Store } from '@hfhpc/core';
import { SlurmScheduler, type Exec, type Scheduler } from '@hfhpc/scheduler';

export interface SubmitSeams {
  /** Who runs the scripts. Default: `SlurmScheduler` (sbatch on PATH). */
  scheduler?: Scheduler;
}

export interface SubmitScriptsParams extends SubmitSeams {
  store: Store;
  planId: number;
  /** Script paths, submitted in order. */
  scripts: readonly string[];
  /** For the default scheduler: runs sbatch. Default execa. */
  exec?: Exec;
  /** For the default scheduler: environment of sbatch. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
}

/** Submit every script; returns the new job ids. Throws the scheduler's error (sbatch's stderr in it). */
export async function submitScripts(params: SubmitScriptsParams): Promise<string[]> {
  const { store, planId, scripts, logger } = params;
  const scheduler = params.scheduler ?? new SlurmScheduler({ exec: params.exec, env: params.env });
  const earlier = getPlan(store, planId)?.jobIds ?? [];
  const submitted: string[] = [];
  try {
    for (const scriptPath of scripts) {
      const jobId = await scheduler.submit({ scriptPath });
      submitted.push(jobId);
      logger?.info(`submitted ${scriptPath} as job ${jobId}`);
    }
  } finally {
    if (submitted.length > 0) setPlanJobIds(store, planId, [...earlier, ...submitted]);
  }
  return submitted;
}

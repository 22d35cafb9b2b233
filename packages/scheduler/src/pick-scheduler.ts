// Slurm when its commands are here, else the local stand-in (submitit probes for srun the same way).
import type { Exec } from './exec.js';
import { LocalScheduler, type LocalSchedulerOptions } from './local-scheduler.js';
import { SlurmScheduler } from './slurm-scheduler.js';
import type { Scheduler } from './types.js';

export interface PickSchedulerParams {
  /** Default: execa. */
  exec?: Exec;
  env?: NodeJS.ProcessEnv;
  /** Options for the local scheduler when Slurm is absent. */
  local?: LocalSchedulerOptions;
}

export async function pickScheduler(params: PickSchedulerParams = {}): Promise<Scheduler> {
  const slurm = new SlurmScheduler({ exec: params.exec, env: params.env });
  return (await slurm.available()) ? slurm : new LocalScheduler({ env: params.env, ...params.local });
}

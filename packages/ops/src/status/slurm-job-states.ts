// Slurm's view for status, through @hfhpc/scheduler loaded at the first question: a plan with
// no job ids never asks, so `hfhpc status` on it loads neither the scheduler nor execa.
import type { SlurmSchedulerOptions } from '@hfhpc/scheduler';
import type { JobStateSource } from './collect-status.js';

/** A `JobStateSource` backed by a `SlurmScheduler` made when first used. */
export function slurmJobStates(options: SlurmSchedulerOptions = {}): JobStateSource {
  let scheduler: Promise<JobStateSource> | undefined;
  const get = (): Promise<JobStateSource> => (scheduler ??= import('@hfhpc/scheduler').then((m) => new m.SlurmScheduler(options)));
  return {
    available: async () => (await get()).available(),
    jobStates: async (jobIds) => (await get()).jobStates(jobIds),
  };
}

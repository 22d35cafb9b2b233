import os from 'node:os';
import { UsageError } from '@hfhpc/core';

export interface DefaultConcurrencyParams {
  /** `--concurrency`, when given. */
  concurrency?: number;
  /** Environment. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Default `os.availableParallelism`. */
  availableParallelism?: () => number;
}

/**
 * Downloads at once: `--concurrency`, else the task's CPUs (`$SLURM_CPUS_PER_TASK`, which is
 * what Slurm granted, not what the node has), else the CPUs this process may use.
 */
export function resolveConcurrency(params: DefaultConcurrencyParams = {}): number {
  const { concurrency } = params;
  if (concurrency !== undefined) {
    if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
      throw new UsageError(`Expected --concurrency to be a positive integer, got \`${String(concurrency)}\``);
    }
    return concurrency;
  }
  const env = params.env ?? process.env;
  const slurm = Number(env.SLURM_CPUS_PER_TASK);
  if (Number.isSafeInteger(slurm) && slurm >= 1) return slurm;
  return Math.max(1, (params.availableParallelism ?? os.availableParallelism)());
}

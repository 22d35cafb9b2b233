// Who holds a lease, in words an operator can match against squeue and the node: the array
// job and task (or `local`), the host and the pid.
import { hostname } from 'node:os';

export interface LeaseOwnerParams {
  /** Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Default os.hostname(). */
  host?: string;
  /** Default process.pid. */
  pid?: number;
}

/** `$SLURM_ARRAY_JOB_ID_$SLURM_ARRAY_TASK_ID@host:pid`, `$SLURM_JOB_ID@host:pid`, or `local@host:pid`. */
export function leaseOwner(params: LeaseOwnerParams = {}): string {
  const { env = process.env, host = hostname(), pid = process.pid } = params;
  const job = env.SLURM_ARRAY_JOB_ID && env.SLURM_ARRAY_TASK_ID
    ? `${env.SLURM_ARRAY_JOB_ID}_${env.SLURM_ARRAY_TASK_ID}`
    : env.SLURM_JOB_ID || 'local';
  return `${job}@${host}:${pid}`;
}

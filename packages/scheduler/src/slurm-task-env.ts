// The variables Slurm sets in a batch task's environment, as a local run sets them: the script
// and `hfhpc work` read the same names whether Slurm or the LocalScheduler started them.
import { hostname } from 'node:os';
import type { ScriptDirectives } from './sbatch-directives.js';

export interface SlurmTaskEnvParams {
  /** The job's id (`local-<n>`); the array's id for an array. */
  jobId: string;
  /** Array task index; null for a plain job. */
  taskId: number | null;
  jobName: string;
  /** The submit directory (sbatch's working directory). */
  submitDir: string;
  directives: Pick<ScriptDirectives, 'array' | 'cpusPerTask'>;
}

/** `SLURM_*` of one task: job, array (id, index, count, min, max), name, submit dir, CPUs. */
export function slurmTaskEnv(p: SlurmTaskEnvParams): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    SLURM_JOB_ID: p.taskId === null ? p.jobId : `${p.jobId}_${p.taskId}`,
    SLURM_JOB_NAME: p.jobName,
    SLURM_SUBMIT_DIR: p.submitDir,
    SLURM_SUBMIT_HOST: hostname(),
    SLURM_JOB_NUM_NODES: '1',
    SLURM_NTASKS: '1',
  };
  const indices = p.directives.array?.indices;
  if (p.taskId !== null && indices !== undefined) {
    Object.assign(env, {
      SLURM_ARRAY_JOB_ID: p.jobId,
      SLURM_ARRAY_TASK_ID: String(p.taskId),
      SLURM_ARRAY_TASK_COUNT: String(indices.length),
      SLURM_ARRAY_TASK_MIN: String(Math.min(...indices)),
      SLURM_ARRAY_TASK_MAX: String(Math.max(...indices)),
    });
  }
  if (p.directives.cpusPerTask !== undefined) env.SLURM_CPUS_PER_TASK = String(p.directives.cpusPerTask);
  return env;
}

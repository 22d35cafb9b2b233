// The Scheduler contract (after submitit's Executor): Slurm and a local stand-in implement it,
// and one conformance suite (test/scheduler/conformance.ts) runs against both.

/** Slurm's job state names (`squeue -O State`, first word of `sacct -o State`). */
export type JobStateName =
  | 'PENDING' | 'RUNNING' | 'COMPLETING' | 'CONFIGURING' | 'REQUEUED' | 'REQUEUE_HOLD' | 'REQUEUE_FED'
  | 'RESIZING' | 'SUSPENDED' | 'STOPPED' | 'SIGNALING' | 'STAGE_OUT' | 'SPECIAL_EXIT' | 'REVOKED'
  | 'COMPLETED' | 'FAILED' | 'CANCELLED' | 'TIMEOUT' | 'OUT_OF_MEMORY' | 'NODE_FAIL' | 'PREEMPTED'
  | 'BOOT_FAIL' | 'DEADLINE';

/** One job, or one task of an array job. */
export interface JobState {
  /** How Slurm names it: `<arrayJobId>_<taskId>` for an array task, else the job id. */
  jobId: string;
  /** The array's id (what sbatch printed); the job id itself for a plain job. */
  arrayJobId: string;
  /** Array task index; null for a plain job. */
  taskId: number | null;
  state: JobStateName;
  /** Why it is in that state (`None`, `JobArrayTaskLimit`, `BeginTime`, `NonZeroExitCode`, …). */
  reason: string;
  /** Exit status of the batch script once it ended; null while it runs or when killed by a signal. */
  exitCode: number | null;
  /** Signal that ended it, if one did (e.g. 9, 15); else null. */
  signal: number | null;
  /** Times it was requeued (`SLURM_RESTART_COUNT`); null when the source does not say (sacct only). */
  restarts: number | null;
}

export interface SubmitParams {
  /** The batch script (`#SBATCH` lines inside). */
  scriptPath: string;
  /** `--dependency`, e.g. `afterok:123`. */
  dependency?: string;
  /** Working directory of the job. Default: this process's. */
  cwd?: string;
}

export interface Scheduler {
  /** `slurm` or `local`. */
  readonly kind: 'slurm' | 'local';
  /** Whether this scheduler can run jobs here (for Slurm: its commands are installed). */
  available(): Promise<boolean>;
  /** Submit a batch script; resolves to the job id (the array's id for an array). */
  submit(params: SubmitParams): Promise<string>;
  /**
   * Current state of the named jobs, one entry per job or array task, sorted by id then task.
   * Ids it does not know (or no longer knows) are left out.
   */
  jobStates(jobIds: readonly string[]): Promise<JobState[]>;
  /** Cancel a job, a whole array (`123`) or one task (`123_4`). */
  cancel(jobId: string): Promise<void>;
}

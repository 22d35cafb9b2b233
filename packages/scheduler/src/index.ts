// Scheduler: the contract, Slurm and local implementations, and helpers around them.
export type { JobState, JobStateName, Scheduler, SubmitParams } from './types.js';
export { execaExec, type Exec, type ExecOptions, type ExecResult } from './exec.js';
export { isTerminal, normalizeState, decodeWaitStatus, parseExitCodeColumn } from './job-state.js';
export { checkDependency, checkSlurmJobId } from './job-id.js';
export { parseSqueue, SQUEUE_FORMAT } from './parse-squeue.js';
export { parseSacct, SACCT_FORMAT } from './parse-sacct.js';
export { SlurmScheduler, type SlurmSchedulerOptions } from './slurm-scheduler.js';
export { LocalScheduler, type LocalSchedulerOptions, type LocalSubmitParams } from './local-scheduler.js';
export { slurmTaskEnv, type SlurmTaskEnvParams } from './slurm-task-env.js';
export { parseScriptDirectives, expandOutputPattern, type ScriptDirectives } from './sbatch-directives.js';
export { waitForJobs, type WaitForJobsParams } from './wait-for-jobs.js';
export { pickScheduler, type PickSchedulerParams } from './pick-scheduler.js';
export { parseArraySpec, formatArraySpec, type ArraySpec } from './array-spec.js';
export { detectMaxArraySize, DEFAULT_MAX_ARRAY_SIZE, type DetectMaxArraySizeParams } from './detect-max-array-size.js';

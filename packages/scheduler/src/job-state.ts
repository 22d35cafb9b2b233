// Small facts about job states and exit statuses shared by both schedulers.
import type { JobState, JobStateName } from './types.js';

const TERMINAL = new Set<JobStateName>([
  'COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'OUT_OF_MEMORY', 'NODE_FAIL', 'PREEMPTED', 'BOOT_FAIL', 'DEADLINE',
]);
const KNOWN = new Set<string>([
  ...TERMINAL, 'PENDING', 'RUNNING', 'COMPLETING', 'CONFIGURING', 'REQUEUED', 'REQUEUE_HOLD', 'REQUEUE_FED',
  'RESIZING', 'SUSPENDED', 'STOPPED', 'SIGNALING', 'STAGE_OUT', 'SPECIAL_EXIT', 'REVOKED',
]);

/** Whether a job in this state will not change again by itself. */
export function isTerminal(state: JobStateName): boolean {
  return TERMINAL.has(state);
}

/** A state as Slurm prints it (`CANCELLED by 0`, `cancelled`) → its name; unknown → null. */
export function normalizeState(text: string): JobStateName | null {
  const word = text.trim().split(/\s+/)[0]?.replace(/\+$/, '').toUpperCase() ?? '';
  return KNOWN.has(word) ? (word as JobStateName) : null;
}

/** A raw wait status (`squeue -O exit_code`: 768 = exit 3; 9 = killed by SIGKILL). */
export function decodeWaitStatus(status: number): { exitCode: number | null; signal: number | null } {
  const signal = status & 0x7f;
  return signal !== 0 ? { exitCode: null, signal } : { exitCode: (status >> 8) & 0xff, signal: null };
}

/** sacct's `ExitCode` column, `code:signal` (`3:0`, `0:15`). */
export function parseExitCodeColumn(text: string): { exitCode: number | null; signal: number | null } {
  const m = /^(\d+):(\d+)$/.exec(text.trim());
  if (!m) return { exitCode: null, signal: null };
  const signal = Number(m[2]);
  return signal !== 0 ? { exitCode: null, signal } : { exitCode: Number(m[1]), signal: null };
}

/** Sort order of `jobStates` results: by array id (numerically when numeric), then task. */
export function compareJobStates(a: JobState, b: JobState): number {
  if (a.arrayJobId !== b.arrayJobId) {
    // Slurm ids are numbers, local ones `local-<n>`: compare the numbers where both have one.
    const na = Number(a.arrayJobId.replace(/^\D+/, ''));
    const nb = Number(b.arrayJobId.replace(/^\D+/, ''));
    if (Number.isFinite(na) && Number.isFinite(nb) && na !== nb) return na - nb;
    return a.arrayJobId < b.arrayJobId ? -1 : 1;
  }
  return (a.taskId ?? -1) - (b.taskId ?? -1);
}

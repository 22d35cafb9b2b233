// `squeue --array --noheader --states=all --Format=…` output → JobState rows.
import { decodeWaitStatus, isTerminal, normalizeState } from './job-state.js';
import type { JobState } from './types.js';

/** The `--Format` that `parseSqueue` reads: one `|`-terminated field each. */
export const SQUEUE_FORMAT = 'JobArrayID:|,ArrayJobID:|,ArrayTaskID:|,State:|,Reason:|,exit_code:|,RestartCnt:|';

/** Parse lines like `12_3|12|3|FAILED|NonZeroExitCode|768|1|`; lines of another shape are skipped. */
export function parseSqueue(stdout: string): JobState[] {
  const rows: JobState[] = [];
  for (const line of stdout.split('\n')) {
    const f = line.trim().split('|');
    if (f.length < 7) continue;
    const [jobId, arrayJobId, taskText, stateText, reason, exitText, restartText] = f.map((x) => x.trim());
    const state = normalizeState(stateText);
    if (!state || !/^\d+(_\d+)?$/.test(jobId) || !/^\d+$/.test(arrayJobId)) continue;
    const taskId = /^\d+$/.test(taskText) ? Number(taskText) : null;
    const status = /^\d+$/.test(exitText) ? Number(exitText) : null;
    const ended = isTerminal(state) && status !== null;
    const { exitCode, signal } = ended ? decodeWaitStatus(status) : { exitCode: null, signal: null };
    rows.push({
      jobId,
      arrayJobId,
      taskId,
      state,
      reason,
      exitCode,
      signal,
      restarts: /^\d+$/.test(restartText) ? Number(restartText) : null,
    });
  }
  return rows;
}

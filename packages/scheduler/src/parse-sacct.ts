// `sacct -X -n -P -o JobID,JobIDRaw,State,ExitCode,Reason` output → JobState rows.
import { parseArraySpec } from './array-spec.js';
import { isTerminal, normalizeState, parseExitCodeColumn } from './job-state.js';
import type { JobState } from './types.js';

/** The `--format` that `parseSacct` reads. */
export const SACCT_FORMAT = 'JobID,JobIDRaw,State,ExitCode,Reason';

/**
 * Parse `sacct --parsable2` rows. An array task is `45_3`; tasks that never started may come as
 * one row `58_[2-6%2]`, expanded here into one entry per task. sacct knows no restart count.
 */
export function parseSacct(stdout: string): JobState[] {
  const rows: JobState[] = [];
  for (const line of stdout.split('\n')) {
    const f = line.trim().split('|');
    if (f.length < 5) continue;
    const [id, , stateText, exitText, reason] = f.map((x) => x.trim());
    const state = normalizeState(stateText);
    const m = /^(\d+)(?:_(\d+|\[([0-9,\-:%]+)\]))?$/.exec(id);
    if (!state || !m) continue;
    const ended = isTerminal(state) ? parseExitCodeColumn(exitText) : { exitCode: null, signal: null };
    const base = { arrayJobId: m[1], state, reason, ...ended, restarts: null };
    if (m[2] === undefined) {
      rows.push({ ...base, jobId: m[1], taskId: null });
    } else if (m[3] === undefined) {
      rows.push({ ...base, jobId: id, taskId: Number(m[2]) });
    } else {
      let tasks: number[] = [];
      try {
        tasks = parseArraySpec(m[3]).indices;
      } catch {
        continue; // a range we cannot read names no task we could report
      }
      for (const t of tasks) rows.push({ ...base, jobId: `${m[1]}_${t}`, taskId: t });
    }
  }
  return rows;
}

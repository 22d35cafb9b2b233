// Poll a scheduler until jobs have ended: the one loop tests, `plan --wait` and the smoke test share.
import { setTimeout as sleep } from 'node:timers/promises';
import { SchedulerError } from '@hfhpc/core';
import { isTerminal } from './job-state.js';
import type { JobState, Scheduler } from './types.js';

export interface WaitForJobsParams {
  scheduler: Scheduler;
  jobIds: readonly string[];
  /** ms between polls. Default 1000. */
  pollMs?: number;
  /** Give up (SchedulerError) after this many ms. Default: never. */
  timeoutMs?: number;
  /** Done when this holds for the latest states. Default: every job known and every task terminal. */
  until?: (states: JobState[]) => boolean;
  /** Injectable clock and sleep (tests). */
  now?: () => number;
  sleep?: (ms: number) => Promise<unknown>;
}

/** Resolves to the states that satisfied `until`. */
export async function waitForJobs(params: WaitForJobsParams): Promise<JobState[]> {
  const { scheduler, jobIds } = params;
  const now = params.now ?? Date.now;
  const pause = params.sleep ?? sleep;
  const until = params.until ?? ((states: JobState[]) =>
    jobIds.every((id) => states.some((s) => s.jobId === id || s.arrayJobId === id)) && states.every((s) => isTerminal(s.state)));
  const deadlineAt = params.timeoutMs === undefined ? Infinity : now() + params.timeoutMs;
  for (;;) {
    const states = await scheduler.jobStates(jobIds);
    if (until(states)) return states;
    if (now() >= deadlineAt) {
      const summary = states.map((s) => `${s.jobId}=${s.state}(${s.reason})`).join(' ') || 'none known';
      throw new SchedulerError(`jobs ${jobIds.join(',')} did not finish within ${params.timeoutMs} ms: ${summary}`);
    }
    await pause(params.pollMs ?? 1000);
  }
}

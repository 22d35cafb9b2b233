import { describe, expect, test } from '@jest/globals';
import { SchedulerError } from '@hfhpc/core';
import { waitForJobs, type JobState, type Scheduler } from '../src/index.js';

function row(jobId: string, state: JobState['state']): JobState {
  return { jobId, arrayJobId: jobId.split('_')[0], taskId: Number(jobId.split('_')[1]), state, reason: 'None', exitCode: null, signal: null, restarts: 0 };
}

// A scheduler that answers from a script of successive answers.
function scripted(answers: JobState[][]): Scheduler & { asked: number } {
  const s = {
    kind: 'local' as const,
    asked: 0,
    available: async () => true,
    submit: async () => 'x',
    cancel: async () => {},
    jobStates: async () => answers[Math.min(s.asked++, answers.length - 1)],
  };
  return s;
}

describe('waitForJobs', () => {
  test('polls until every task of every job is terminal', async () => {
    const s = scripted([[], [row('1_0', 'RUNNING'), row('1_1', 'PENDING')], [row('1_0', 'COMPLETED'), row('1_1', 'REQUEUED')], [row('1_0', 'COMPLETED'), row('1_1', 'FAILED')]]);
    const states = await waitForJobs({ scheduler: s, jobIds: ['1'], sleep: async () => {} });
    expect(states.map((x) => x.state)).toEqual(['COMPLETED', 'FAILED']);
    expect(s.asked).toBe(4);
  });

  test('gives up after timeoutMs with the states it last saw', async () => {
    let t = 0;
    const s = scripted([[row('2_0', 'PENDING')]]);
    const err = await waitForJobs({ scheduler: s, jobIds: ['2'], timeoutMs: 5000, pollMs: 1000, now: () => t, sleep: async (ms) => { t += ms; } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SchedulerError);
    expect((err as Error).message).toContain('2_0=PENDING(None)');
    expect(s.asked).toBe(6);
  });
});

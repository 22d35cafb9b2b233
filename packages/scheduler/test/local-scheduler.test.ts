import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { UsageError } from '@hfhpc/core';
import { LocalScheduler, type Scheduler } from '../src/index.js';
import { schedulerConformance } from './conformance.js';

const TASK = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'task.mjs');

describe('LocalScheduler conformance', () => {
  schedulerConformance({
    make: () => new LocalScheduler({ killWaitMs: 2000 }),
    shutdown: (s: Scheduler) => (s as LocalScheduler).shutdown(),
    unknownId: 'local-999',
    pollMs: 50,
  });
});

describe('LocalScheduler.spawn', () => {
  let dir: string;
  const scheduler = new LocalScheduler({ killWaitMs: 2000 });
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hfhpc-local-'));
  });
  afterAll(async () => {
    await scheduler.shutdown();
    await rm(dir, { recursive: true, force: true });
  });

  async function waitForText(file: string, text: string): Promise<void> {
    for (let i = 0; i < 400; i++) {
      const content = await readFile(file, 'utf8').catch(() => '');
      if (content.includes(text)) return;
      await sleep(25);
    }
    throw new Error(`${file} never contained ${JSON.stringify(text)}`);
  }

  test('runs every task with its own args and env, and returns their exit codes in order', async () => {
    const array = scheduler.spawn({
      taskCount: 3,
      makeArgs: (i) => [process.execPath, TASK, String(i), String(i === 1 ? 4 : 0)],
      makeEnv: (i) => ({ HFHPC_TEST_TAG: `t${i}` }),
      output: (i) => join(dir, `spawn-${i}.log`),
    });
    expect(await array.wait()).toEqual([0, 4, 0]);
    for (const i of [0, 1, 2]) expect(await readFile(join(dir, `spawn-${i}.log`), 'utf8')).toBe(`task ${i} tag=t${i}\n`);
    const states = await scheduler.jobStates([array.jobId]);
    expect(states.map((s) => [s.jobId, s.state, s.exitCode])).toEqual([
      [`${array.jobId}_0`, 'COMPLETED', 0],
      [`${array.jobId}_1`, 'FAILED', 4],
      [`${array.jobId}_2`, 'COMPLETED', 0],
    ]);
  });

  test('forwards a signal to running tasks, which exit 75', async () => {
    const array = scheduler.spawn({
      taskCount: 2,
      makeArgs: (i) => [process.execPath, TASK, String(i), '0', '--until-signal'],
      output: (i) => join(dir, `sig-${i}.log`),
    });
    await waitForText(join(dir, 'sig-0.log'), 'ready');
    await waitForText(join(dir, 'sig-1.log'), 'ready');
    array.signal('SIGINT');
    expect(await array.wait()).toEqual([75, 75]);
    expect(await readFile(join(dir, 'sig-1.log'), 'utf8')).toContain('task 1 got SIGINT');
  });

  test('keeps to maxParallel: the second task starts only after the first ended', async () => {
    const array = scheduler.spawn({
      taskCount: 2,
      maxParallel: 1,
      makeArgs: (i) => [process.execPath, TASK, String(i), '0', '--until-signal'],
      output: (i) => join(dir, `par-${i}.log`),
    });
    await waitForText(join(dir, 'par-0.log'), 'ready');
    const [first, second] = await scheduler.jobStates([array.jobId]);
    expect([first.state, second.state, second.reason]).toEqual(['RUNNING', 'PENDING', 'JobArrayTaskLimit']);
    await scheduler.cancel(`${array.jobId}_0`);
    await waitForText(join(dir, 'par-1.log'), 'ready');
    array.cancel();
    // SIGTERM reaches the task's handler: exit 75, recorded as CANCELLED.
    expect(await array.wait()).toEqual([75, 75]);
    expect((await scheduler.jobStates([array.jobId])).map((s) => s.state)).toEqual(['CANCELLED', 'CANCELLED']);
  });

  test('a task whose program does not exist fails with 127 instead of throwing', async () => {
    const array = scheduler.spawn({ taskCount: 1, makeArgs: () => [join(dir, 'no-such-program')], output: 'ignore' });
    expect(await array.wait()).toEqual([127]);
    expect(await scheduler.jobStates([array.jobId])).toEqual([expect.objectContaining({ state: 'FAILED', reason: 'JobLaunchFailure' })]);
  });

  test('refuses a bad task count and an unsupported dependency', async () => {
    expect(() => scheduler.spawn({ taskCount: 0, makeArgs: () => ['/bin/true'] })).toThrow(UsageError);
    await expect(scheduler.submit({ scriptPath: TASK, dependency: 'afterok:12' })).rejects.toThrow(/local jobs support/);
  });
});

import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
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

describe('LocalScheduler: what only a local run does', () => {
  let dir: string;
  const scheduler = new LocalScheduler({ killWaitMs: 5000 });
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hfhpc-local-'));
  });
  afterAll(async () => {
    await scheduler.shutdown();
    await rm(dir, { recursive: true, force: true });
  });

  async function script(name: string, directives: string[], body: string): Promise<string> {
    const path = join(dir, `${name}.sbatch`);
    await writeFile(path, `#!/bin/bash\n${directives.map((d) => `#SBATCH ${d}\n`).join('')}\n${body}\n`);
    return path;
  }

  async function until(check: () => boolean, what: string): Promise<void> {
    for (let i = 0; i < 1200; i++) {
      if (check()) return;
      await sleep(25);
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  test('each array task runs with bash and Slurm\'s variables; onLine gets every line of stdout and stderr, no log file is written', async () => {
    const vars = ['SLURM_JOB_ID', 'SLURM_ARRAY_JOB_ID', 'SLURM_ARRAY_TASK_ID', 'SLURM_ARRAY_TASK_COUNT', 'SLURM_ARRAY_TASK_MIN', 'SLURM_ARRAY_TASK_MAX', 'SLURM_JOB_NAME', 'SLURM_CPUS_PER_TASK', 'SLURM_SUBMIT_DIR'];
    const s = await script('env', ['--array=2,5,9%2', '--job-name=envs', '--cpus-per-task=3', `--output=${dir}/env-%a.out`], `echo "${vars.map((v) => `${v}=$${v}`).join(' ')}"\necho "to stderr $SLURM_ARRAY_TASK_ID" >&2`);
    const lines: [string, number | null][] = [];
    const id = await scheduler.submit({ scriptPath: s, cwd: dir, onLine: (line, taskId) => lines.push([line, taskId]) });
    const states = await scheduler.wait(id);
    expect(states.map((t) => [t.jobId, t.state, t.exitCode])).toEqual([2, 5, 9].map((i) => [`${id}_${i}`, 'COMPLETED', 0]));
    for (const i of [2, 5, 9]) {
      const env = `SLURM_JOB_ID=${id}_${i} SLURM_ARRAY_JOB_ID=${id} SLURM_ARRAY_TASK_ID=${i} SLURM_ARRAY_TASK_COUNT=3 SLURM_ARRAY_TASK_MIN=2 SLURM_ARRAY_TASK_MAX=9 SLURM_JOB_NAME=envs SLURM_CPUS_PER_TASK=3 SLURM_SUBMIT_DIR=${dir}`;
      expect(lines.filter(([, t]) => t === i).map(([l]) => l).sort()).toEqual([env, `to stderr ${i}`].sort());
    }
    expect(existsSync(join(dir, 'env-2.out'))).toBe(false);
  });

  test('stop: pending tasks never start, each running batch shell alone gets SIGTERM and its trap forwards it; exit codes as the worker gave them', async () => {
    // The download template's pattern: the program in the background, stop signals forwarded.
    const body = [
      'worker=',
      'forward() { echo "shell got $1"; if [ -n "$worker" ]; then kill -s "$1" "$worker"; fi; }',
      "trap 'forward TERM' TERM",
      `'${process.execPath}' '${TASK}' "$SLURM_ARRAY_TASK_ID" 0 --until-signal &`,
      'worker=$!',
      'while :; do wait "$worker"; rc=$?; if [ "$rc" -gt 128 ] && kill -0 "$worker" 2>/dev/null; then continue; fi; break; done',
      'echo "worker exited $rc"',
      'exit "$rc"',
    ].join('\n');
    const s = await script('stop', ['--array=0-2%2'], body);
    const lines: string[] = [];
    const id = await scheduler.submit({ scriptPath: s, cwd: dir, onLine: (line, taskId) => lines.push(`${taskId}: ${line}`) });
    await until(() => lines.includes('0: task 0 ready') && lines.includes('1: task 1 ready'), 'two tasks ready');
    expect((await scheduler.jobStates([id])).map((t) => [t.taskId, t.state, t.reason])).toEqual([[0, 'RUNNING', 'None'], [1, 'RUNNING', 'None'], [2, 'PENDING', 'JobArrayTaskLimit']]);
    scheduler.stop(id);
    const states = await scheduler.wait(id);
    expect(states.map((t) => [t.taskId, t.state, t.exitCode])).toEqual([[0, 'CANCELLED', 75], [1, 'CANCELLED', 75], [2, 'CANCELLED', null]]);
    for (const i of [0, 1]) {
      // The shell's trap ran (so the signal went to the shell), and the task got it once, from the trap.
      expect(lines.filter((l) => l.startsWith(`${i}: `))).toEqual(expect.arrayContaining([`${i}: shell got TERM`, `${i}: task ${i} got SIGTERM`, `${i}: worker exited 75`]));
      expect(lines.filter((l) => l === `${i}: task ${i} got SIGTERM`)).toHaveLength(1);
    }
    expect(lines.some((l) => l.startsWith('2: '))).toBe(false);
  });

  test('a shell that cannot start fails the task with 127 (JobLaunchFailure) instead of throwing', async () => {
    const broken = new LocalScheduler({ shell: join(dir, 'no-such-shell') });
    const id = await broken.submit({ scriptPath: await script('plain', [], 'true'), cwd: dir, onLine: () => undefined });
    expect(await broken.wait(id)).toEqual([expect.objectContaining({ state: 'FAILED', reason: 'JobLaunchFailure', exitCode: 127 })]);
  });

  test('refuses an unsupported dependency, and waiting on a job it never issued', async () => {
    await expect(scheduler.submit({ scriptPath: TASK, dependency: 'afterok:12' })).rejects.toThrow(/local jobs support/);
    await expect(scheduler.wait('local-999')).rejects.toThrow(UsageError);
  });
});

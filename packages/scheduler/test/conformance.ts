// One suite every Scheduler runs (submitit / rclone fstests style): the same scripts, the same
// expectations, for Slurm on the dev cluster and for the local stand-in.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { waitForJobs, type JobState, type Scheduler } from '../src/index.js';

export interface ConformanceParams {
  make: () => Scheduler;
  /** Ends what the scheduler still runs (local); Slurm jobs are cancelled by id. */
  shutdown?: (scheduler: Scheduler) => Promise<void>;
  /** An id of the scheduler's shape that names no job. */
  unknownId: string;
  pollMs: number;
}

export function schedulerConformance(p: ConformanceParams): void {
  let scheduler: Scheduler;
  let dir: string;
  const submitted: string[] = [];

  beforeAll(async () => {
    scheduler = p.make();
    // Under os.tmpdir(): on the dev cluster the node is this host, so the job sees it too.
    dir = await mkdtemp(join(tmpdir(), `hfhpc-conf-${scheduler.kind}-`));
  });
  afterAll(async () => {
    for (const id of submitted) await scheduler.cancel(id).catch(() => {});
    await p.shutdown?.(scheduler);
    await rm(dir, { recursive: true, force: true });
  });

  async function script(name: string, sbatch: string[], body: string): Promise<string> {
    const path = join(dir, `${name}.sh`);
    await writeFile(path, ['#!/bin/bash', ...sbatch.map((l) => `#SBATCH ${l}`), 'set -e', body, ''].join('\n'));
    return path;
  }
  async function submit(scriptPath: string, dependency?: string): Promise<string> {
    const id = await scheduler.submit({ scriptPath, dependency, cwd: dir });
    submitted.push(id);
    return id;
  }
  const settle = (ids: string[], until?: (s: JobState[]) => boolean) =>
    waitForJobs({ scheduler, jobIds: ids, pollMs: p.pollMs, timeoutMs: 90_000, until });

  test('is available', async () => {
    expect(await scheduler.available()).toBe(true);
  });

  test('runs a script: COMPLETED, exit 0, its file and its output written', async () => {
    const s = await script('hello', ['--job-name=conf-hello', `--output=${dir}/%j.out`], `echo "hello $SLURM_JOB_ID" > ${dir}/hello.txt\necho out-line`);
    const id = await submit(s);
    const states = await settle([id]);
    expect(states).toEqual([expect.objectContaining({ jobId: id, arrayJobId: id, taskId: null, state: 'COMPLETED', exitCode: 0, signal: null })]);
    expect(await readFile(join(dir, 'hello.txt'), 'utf8')).toBe(`hello ${id}\n`);
    expect(await readFile(join(dir, `${id}.out`), 'utf8')).toBe('out-line\n');
  });

  test('runs an array under its %K throttle, one state per task', async () => {
    const s = await script('arr', ['--array=0-2%1', `--output=${dir}/arr_%A_%a.out`],
      `echo "start $SLURM_ARRAY_TASK_ID" >> ${dir}/arr.log\nsleep 0.3\necho "end $SLURM_ARRAY_TASK_ID" >> ${dir}/arr.log\necho "task $SLURM_ARRAY_TASK_ID of $SLURM_ARRAY_JOB_ID"`);
    const id = await submit(s);
    const states = await settle([id]);
    expect(states.map((x) => [x.jobId, x.taskId, x.state, x.exitCode])).toEqual([0, 1, 2].map((i) => [`${id}_${i}`, i, 'COMPLETED', 0]));
    // %1: every task ended before the next started.
    const log = (await readFile(join(dir, 'arr.log'), 'utf8')).trim().split('\n');
    expect(log).toHaveLength(6);
    for (let k = 0; k < 6; k += 2) expect(log[k + 1]).toBe(log[k].replace('start', 'end'));
    for (const i of [0, 1, 2]) expect(await readFile(join(dir, `arr_${id}_${i}.out`), 'utf8')).toBe(`task ${i} of ${id}\n`);
    // A single task can be asked about by its own id.
    expect((await scheduler.jobStates([`${id}_1`])).map((x) => x.jobId)).toEqual([`${id}_1`]);
  });

  test('reports a failing script as FAILED with its exit code', async () => {
    const id = await submit(await script('fail', [`--output=${dir}/%j.out`], 'exit 3'));
    const [state] = await settle([id]);
    expect(state).toMatchObject({ state: 'FAILED', exitCode: 3 });
  });

  test('cancels a running job', async () => {
    const id = await submit(await script('sleepy', [`--output=${dir}/%j.out`], `touch ${dir}/sleepy.started\nsleep 120`));
    await settle([id], (s) => s.length === 1 && s[0].state === 'RUNNING');
    await scheduler.cancel(id);
    const [state] = await settle([id]);
    expect(state.state).toBe('CANCELLED');
  });

  test('holds a job until its afterok dependency completed', async () => {
    const a = await submit(await script('dep-a', [`--output=${dir}/%j.out`], `sleep 0.5\necho a > ${dir}/a.txt`));
    const b = await submit(await script('dep-b', [`--output=${dir}/%j.out`], `cat ${dir}/a.txt > ${dir}/b.txt`), `afterok:${a}`);
    const states = await settle([a, b]);
    expect(states.map((s) => s.state)).toEqual(['COMPLETED', 'COMPLETED']);
    expect(await readFile(join(dir, 'b.txt'), 'utf8')).toBe('a\n');
  });

  test('knows nothing of an id it never issued', async () => {
    expect(await scheduler.jobStates([p.unknownId])).toEqual([]);
    expect(await scheduler.jobStates([])).toEqual([]);
  });
}

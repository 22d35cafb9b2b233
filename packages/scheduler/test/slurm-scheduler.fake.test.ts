// SlurmScheduler against fake sbatch/squeue/sacct/scancel/scontrol on PATH: tiny shell scripts
// that record their arguments and print what a test put in a file. Runs on any machine.
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { ExitCode, SchedulerError, UsageError } from '@hfhpc/core';
import { SlurmScheduler, detectMaxArraySize, pickScheduler } from '../src/index.js';

let bin: string;
let env: NodeJS.ProcessEnv;

// Each fake: logs "<name> <args>" to calls.log; prints <name>.out; prints <name>.err to stderr
// and exits with <name>.rc when those files exist.
const FAKE = `#!/bin/sh
name=$(basename "$0")
d=$(dirname "$0")
echo "$name $*" >> "$d/calls.log"
[ -f "$d/$name.out" ] && cat "$d/$name.out"
[ -f "$d/$name.err" ] && cat "$d/$name.err" >&2
[ -f "$d/$name.rc" ] && exit "$(cat "$d/$name.rc")"
exit 0
`;
const NAMES = ['sbatch', 'squeue', 'sacct', 'scancel', 'scontrol'];

async function fake(name: string, io: { out?: string; err?: string; rc?: number }): Promise<void> {
  if (io.out !== undefined) await writeFile(join(bin, `${name}.out`), io.out);
  if (io.err !== undefined) await writeFile(join(bin, `${name}.err`), io.err);
  if (io.rc !== undefined) await writeFile(join(bin, `${name}.rc`), String(io.rc));
}
async function calls(): Promise<string[]> {
  return (await readFile(join(bin, 'calls.log'), 'utf8').catch(() => '')).trim().split('\n').filter(Boolean);
}

beforeAll(async () => {
  bin = await mkdtemp(join(tmpdir(), 'hfhpc-fake-slurm-'));
  for (const n of NAMES) {
    await writeFile(join(bin, n), FAKE);
    await chmod(join(bin, n), 0o755);
  }
  env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
});
afterAll(async () => {
  await rm(bin, { recursive: true, force: true });
});
beforeEach(async () => {
  for (const n of [...NAMES.flatMap((x) => [`${x}.out`, `${x}.err`, `${x}.rc`]), 'calls.log']) await rm(join(bin, n), { force: true });
});

describe('SlurmScheduler with fake commands', () => {
  test('submit runs sbatch --parsable [--dependency] script and returns the id', async () => {
    await fake('sbatch', { out: '4242;localcluster\n' });
    const s = new SlurmScheduler({ env });
    expect(await s.submit({ scriptPath: '/tmp/x/download.sbatch' })).toBe('4242');
    expect(await s.submit({ scriptPath: '/tmp/x/verify.sbatch', dependency: 'afterok:4242' })).toBe('4242');
    expect(await calls()).toEqual([
      'sbatch --parsable /tmp/x/download.sbatch',
      'sbatch --parsable --dependency=afterok:4242 /tmp/x/verify.sbatch',
    ]);
  });

  test('a failing sbatch throws SchedulerError carrying its stderr (exit 1)', async () => {
    await fake('sbatch', { err: 'sbatch: error: Batch job submission failed: Invalid job array specification\n', rc: 1 });
    const err = await new SlurmScheduler({ env }).submit({ scriptPath: '/tmp/x.sbatch' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SchedulerError);
    expect((err as SchedulerError).message).toContain('Invalid job array specification');
    expect((err as SchedulerError).exitCode).toBe(ExitCode.FAILED);
  });

  test('sbatch printing no id is an error too', async () => {
    await fake('sbatch', { out: 'Submitted batch job 12\n' });
    await expect(new SlurmScheduler({ env }).submit({ scriptPath: '/tmp/x.sbatch' })).rejects.toThrow(/no job id/);
  });

  test('a malformed dependency never reaches sbatch', async () => {
    await expect(new SlurmScheduler({ env }).submit({ scriptPath: '/x', dependency: 'afterok:1; rm -rf /' })).rejects.toThrow(UsageError);
    expect(await calls()).toEqual([]);
  });

  test('jobStates: one sacct and one squeue call for all ids; squeue wins, sacct fills in forgotten tasks', async () => {
    await fake('sacct', {
      out: ['12_0|13|COMPLETED|0:0|None', '12_1|14|FAILED|3:0|None', '12_[2-3%1]|12|CANCELLED by 0|0:0|None', '20|20|TIMEOUT|0:15|TimeLimit', ''].join('\n'),
    });
    await fake('squeue', { out: ['12_1|12|1|RUNNING|None|0|1|', '12_3|12|3|PENDING|BeginTime|0|0|', ''].join('\n') });
    const states = await new SlurmScheduler({ env }).jobStates(['12', '20']);
    expect(await calls()).toEqual([
      'sacct -X -n -P --jobs=12,20 --format=JobID,JobIDRaw,State,ExitCode,Reason',
      'squeue --array --noheader --states=all --jobs=12,20 --Format=JobArrayID:|,ArrayJobID:|,ArrayTaskID:|,State:|,Reason:|,exit_code:|,RestartCnt:|',
    ]);
    expect(states).toEqual([
      { jobId: '12_0', arrayJobId: '12', taskId: 0, state: 'COMPLETED', reason: 'None', exitCode: 0, signal: null, restarts: null },
      { jobId: '12_1', arrayJobId: '12', taskId: 1, state: 'RUNNING', reason: 'None', exitCode: null, signal: null, restarts: 1 },
      { jobId: '12_2', arrayJobId: '12', taskId: 2, state: 'CANCELLED', reason: 'None', exitCode: 0, signal: null, restarts: null },
      { jobId: '12_3', arrayJobId: '12', taskId: 3, state: 'PENDING', reason: 'BeginTime', exitCode: null, signal: null, restarts: 0 },
      { jobId: '20', arrayJobId: '20', taskId: null, state: 'TIMEOUT', reason: 'TimeLimit', exitCode: null, signal: 15, restarts: null },
    ]);
  });

  test('jobStates: a task-less sacct row of an array whose tasks are known is stale (slurmdbd lags behind the split)', async () => {
    await fake('sacct', { out: ['176|176|PENDING|0:0|None', '30|30|COMPLETED|0:0|None', ''].join('\n') });
    await fake('squeue', { out: ['176_0|176|0|RUNNING|None|0|0|', '176_1|176|1|RUNNING|None|0|0|', ''].join('\n') });
    const states = await new SlurmScheduler({ env }).jobStates(['176', '30']);
    expect(states.map((s) => s.jobId)).toEqual(['30', '176_0', '176_1']);
  });

  test('without accounting it falls back to squeue and stops asking sacct', async () => {
    await fake('sacct', { err: 'sacct: error: Slurm accounting storage is disabled\n', rc: 1 });
    await fake('squeue', { out: '7|7|N/A|FAILED|NonZeroExitCode|19200|2|\n' });
    const s = new SlurmScheduler({ env });
    const first = await s.jobStates(['7']);
    const second = await s.jobStates(['7']);
    expect(first).toEqual([{ jobId: '7', arrayJobId: '7', taskId: null, state: 'FAILED', reason: 'NonZeroExitCode', exitCode: 75, signal: null, restarts: 2 }]);
    expect(second).toEqual(first);
    expect((await calls()).map((c) => c.split(' ')[0])).toEqual(['sacct', 'squeue', 'squeue']);
  });

  test('other sacct failures are reported as warnings; squeue still answers', async () => {
    await fake('sacct', { err: 'sacct: error: slurmdbd: Connection refused\n', rc: 1 });
    await fake('squeue', { out: '8|8|N/A|RUNNING|None|0|0|\n' });
    const warnings: string[] = [];
    const states = await new SlurmScheduler({ env, onWarning: (w) => warnings.push(w) }).jobStates(['8']);
    expect(states.map((s) => s.state)).toEqual(['RUNNING']);
    expect(warnings).toEqual([expect.stringContaining('Connection refused')]);
  });

  test('ids squeue no longer knows give an empty answer; other squeue failures throw', async () => {
    await fake('sacct', { err: 'sacct: error: Slurm accounting storage is disabled\n', rc: 1 });
    await fake('squeue', { err: 'slurm_load_jobs error: Invalid job id specified\n', rc: 1 });
    expect(await new SlurmScheduler({ env }).jobStates(['99'])).toEqual([]);
    await fake('squeue', { err: 'slurm_load_jobs error: Unable to contact slurm controller (connect failure)\n', rc: 1 });
    await expect(new SlurmScheduler({ env, accounting: false }).jobStates(['99'])).rejects.toThrow(/Unable to contact slurm controller/);
  });

  test('cancel runs scancel on the array or the task; bad ids are refused', async () => {
    const s = new SlurmScheduler({ env });
    await s.cancel('12');
    await s.cancel('12_3');
    expect(await calls()).toEqual(['scancel 12', 'scancel 12_3']);
    await expect(s.cancel('12 13')).rejects.toThrow(UsageError);
  });

  test('available is true with the commands on PATH, false without them', async () => {
    expect(await new SlurmScheduler({ env }).available()).toBe(true);
    expect(await new SlurmScheduler({ env: { PATH: join(bin, 'empty') } }).available()).toBe(false);
  });

  test('pickScheduler: Slurm when its commands run here, else local', async () => {
    expect((await pickScheduler({ env })).kind).toBe('slurm');
    expect((await pickScheduler({ env: { PATH: join(bin, 'empty') } })).kind).toBe('local');
  });

  test('detectMaxArraySize reads scontrol show config, else the fallback', async () => {
    await fake('scontrol', { out: 'Configuration data as of 2024-01-01T00:00:00\nMaxArraySize            = 5001\nMaxJobCount             = 10000\n' });
    expect(await detectMaxArraySize({ env })).toBe(5001);
    expect(await calls()).toEqual(['scontrol show config']);
    await fake('scontrol', { err: 'slurm_load_ctl_conf error: Unable to contact slurm controller\n', rc: 1 });
    expect(await detectMaxArraySize({ env, fallback: 300 })).toBe(300);
    expect(await detectMaxArraySize({ env: { PATH: join(bin, 'empty') } })).toBe(1001);
  });
});

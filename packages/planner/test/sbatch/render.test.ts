import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execa } from 'execa';
import { UsageError, clearSecrets, registerSecret } from '@hfhpc/core';
import {
  readSbatchTemplate, renderSbatch, renderVerifySbatch, splitArrays, verifyCommand, workCommand, writeSbatchScript,
  type RenderSbatchParams,
} from '../../src/sbatch/index.js';

const GOLDEN = join(dirname(fileURLToPath(import.meta.url)), '..', 'golden');
const NODE = '/opt/node/bin/node';
const BIN = '/opt/hfhpc/packages/cli/dist/bin.js';

let downloadTemplate: string;
let verifyTemplate: string;
beforeAll(async () => {
  downloadTemplate = await readSbatchTemplate({ name: 'download-array' });
  verifyTemplate = await readSbatchTemplate({ name: 'verify' });
});

/** Compare with test/golden/<name>; UPDATE_GOLDEN=1 rewrites the file instead. */
async function expectGolden(name: string, actual: string): Promise<void> {
  const file = join(GOLDEN, name);
  if (process.env.UPDATE_GOLDEN === '1') {
    await writeFile(file, actual);
    return;
  }
  if (!existsSync(file)) throw new Error(`golden file ${file} is missing; run with UPDATE_GOLDEN=1 to create it`);
  // On a mismatch jest prints a line diff; if the change is intended: UPDATE_GOLDEN=1 npm test.
  expect(actual).toBe(await readFile(file, 'utf8'));
}

function basic(over: Partial<RenderSbatchParams> = {}): RenderSbatchParams {
  const [chunk] = splitArrays({ shardCount: 10, maxArraySize: 1001, maxParallel: 4 });
  return {
    template: downloadTemplate,
    arraySpec: chunk.arraySpec,
    taskOffset: chunk.taskOffset,
    outputDir: '/scratch/hf/_hfhpc/plans/1/logs',
    command: workCommand({ nodePath: NODE, hfhpcBin: BIN, planId: 1, taskOffset: chunk.taskOffset, db: '/scratch/hf/_hfhpc/state.sqlite', root: '/scratch/hf', hubUrl: 'https://huggingface.co' }),
    ...over,
  };
}

describe('golden files (UPDATE_GOLDEN=1 rewrites them)', () => {
  test('download array with defaults', async () => {
    await expectGolden('download-basic.sbatch', renderSbatch(basic()));
  });

  test('download array with every setting, an explicit shard list and a task offset', async () => {
    const script = renderSbatch({
      template: downloadTemplate,
      arraySpec: '3,17,42%2',
      taskOffset: 1001,
      outputDir: '/scratch/my logs',
      jobName: "bigcode's stack",
      partition: 'cpu,long',
      account: 'proj-42',
      qos: 'normal',
      time: '2-00:00:00',
      mem: '8G',
      cpusPerTask: 4,
      mailUser: 'ops@example.org',
      mailType: 'END,FAIL',
      signalSeconds: 600,
      requeue: false,
      requeueMax: 5,
      openMode: 'truncate',
      extra: ['#SBATCH --constraint=lustre', '--nice=10'],
      command: workCommand({
        nodePath: NODE, hfhpcBin: BIN, planId: 7, taskOffset: 1001, db: '/scratch/my db/state.sqlite', root: '/scratch/hf',
        hubUrl: 'http://127.0.0.1:8080', concurrency: 8, leaseTtlSeconds: 90,
      }),
    });
    await expectGolden('download-full.sbatch', script);
  });

  test('verify job', async () => {
    const script = renderVerifySbatch({
      template: verifyTemplate,
      outputDir: '/scratch/hf/_hfhpc/plans/1/logs',
      time: '12:00:00',
      partition: 'cpu',
      command: verifyCommand({ nodePath: NODE, hfhpcBin: BIN, db: '/scratch/hf/_hfhpc/state.sqlite', root: '/scratch/hf' }),
    });
    await expectGolden('verify.sbatch', script);
  });
});

describe('workCommand', () => {
  test('writes --progress-interval only when given (run --local passes its own), a whole number of seconds', () => {
    const base = { nodePath: NODE, hfhpcBin: BIN, planId: 1, db: '/scratch/hf/state.sqlite', root: '/scratch/hf', hubUrl: 'https://huggingface.co' };
    expect(workCommand(base)).not.toContain('--progress-interval');
    expect(workCommand({ ...base, progressIntervalSeconds: 5 }).slice(-2)).toEqual(['--progress-interval', '5']);
    expect(() => workCommand({ ...base, progressIntervalSeconds: 0.5 })).toThrow(UsageError);
  });

  test('runs the worker with a bounded V8 heap: 48 MiB of old generation unless the plan says more, 2 MiB semi-spaces', () => {
    const base = { nodePath: NODE, hfhpcBin: BIN, planId: 1, db: '/scratch/hf/state.sqlite', root: '/scratch/hf', hubUrl: 'https://huggingface.co' };
    expect(workCommand(base).slice(0, 4)).toEqual([NODE, '--max-old-space-size=48', '--max-semi-space-size=2', BIN]);
    expect(workCommand({ ...base, heapMib: 256 })[1]).toBe('--max-old-space-size=256');
    expect(() => workCommand({ ...base, heapMib: 16 })).toThrow(UsageError);
    // The verify job is not capped: it hashes files, its heap is not what grows.
    expect(verifyCommand({ nodePath: NODE, hfhpcBin: BIN, db: '/scratch/hf/state.sqlite', root: '/scratch/hf' })[1]).toBe(BIN);
  });
});

describe('renderSbatch', () => {
  test('writes #SBATCH lines sorted, before the first command', () => {
    const lines = renderSbatch(basic({ time: '90', mem: '2000', account: 'a1' })).split('\n');
    const directives = lines.filter((l) => l.startsWith('#SBATCH '));
    expect(directives).toEqual([...directives].sort());
    const firstCommand = lines.findIndex((l) => l.trim() !== '' && !l.startsWith('#'));
    expect(lines.findLastIndex((l) => l.startsWith('#SBATCH '))).toBeLessThan(firstCommand);
    expect(directives).toContain('#SBATCH --array=0-9%4');
    expect(directives).toContain('#SBATCH --output=/scratch/hf/_hfhpc/plans/1/logs/%A_%a.out');
    expect(directives).toContain('#SBATCH --signal=B:USR1@300');
  });

  test('is a pure function: same parameters, same bytes', () => {
    expect(renderSbatch(basic())).toBe(renderSbatch(basic()));
  });

  test('never writes the token from the environment, and refuses token-shaped values', () => {
    const token = 'hf_abcdefghijklmnopqrstuvwxyz012345';
    const saved = process.env.HF_TOKEN;
    process.env.HF_TOKEN = token;
    try {
      registerSecret(token);
      const script = renderSbatch(basic());
      expect(script).not.toContain(token);
      expect(script).not.toContain('HF_TOKEN=');
      expect(() => renderSbatch(basic({ extra: [`--comment=${token}`] }))).toThrow(/token/);
      expect(() => renderSbatch(basic({ command: ['/bin/echo', token] }))).toThrow(UsageError);
    } finally {
      if (saved === undefined) delete process.env.HF_TOKEN;
      else process.env.HF_TOKEN = saved;
      clearSecrets();
    }
  });

  test.each([
    ['an invalid array spec', { arraySpec: '5-1' }, /runs backwards/],
    ['a relative output folder', { outputDir: 'logs' }, /absolute path/],
    ['a % in the output folder', { outputDir: '/scratch/100%/logs' }, /filename pattern/],
    ['a bad time', { time: 'forever' }, /time limit/],
    ['a bad memory size', { mem: '4 GB' }, /memory size/],
    ['a bad mail type', { mailType: 'END,SOMETIMES' }, /mail types?/],
    ['cpus below 1', { cpusPerTask: 0 }, /whole number/],
    ['a signal time out of range', { signalSeconds: 70000 }, /whole number/],
    ['an extra line setting --array', { extra: ['#SBATCH --array=0-3'] }, /writes itself/],
    ['an extra line setting -o', { extra: ['-o /tmp/x'] }, /writes itself/],
    ['an extra line that is no option', { extra: ['module load python'] }, /not an sbatch option/],
    ['a newline in an extra line', { extra: ['--comment=a\nrm -rf /'] }, /control character/],
    ['a job name with both quote kinds', { jobName: `it's "x"` }, /both ' and "/],
    ['a relative program', { command: ['node', 'bin.js'] }, /absolute path/],
  ])('refuses %s with a UsageError', (_what, over, message) => {
    let error: unknown;
    try {
      renderSbatch(basic(over as Partial<RenderSbatchParams>));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(message);
  });

  test('a template out of step with the renderer is an error, not a half-filled script', () => {
    expect(() => renderSbatch(basic({ template: '#!/bin/bash\n{{SBATCH_LINES}}\n{{COMMAND}}\n{{WHATEVER}}\n' }))).toThrow(/\{\{WHATEVER\}\} has no value.*\{\{TASK_OFFSET\}\} is missing/);
  });

  test('the rendered scripts are valid bash', async () => {
    for (const script of [renderSbatch(basic()), renderVerifySbatch({ template: verifyTemplate, outputDir: '/l', command: ['/bin/true'] })]) {
      const r = await execa('bash', ['-n'], { input: script, reject: false });
      expect(r.stderr).toBe('');
      expect(r.exitCode).toBe(0);
    }
  });
});

describe('the batch script at run time (plain bash, fake scontrol)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hfhpc-script-'));
    await writeFile(join(dir, 'scontrol'), `#!/bin/sh\necho "scontrol $*" >> "${dir}/scontrol.log"\n`);
    await chmod(join(dir, 'scontrol'), 0o755);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  // A worker that says it is ready, then exits 75 on USR1 (as hfhpc work does after releasing its lease).
  const WORKER = [
    process.execPath, '-e',
    "process.on('SIGUSR1',()=>{console.log('worker got USR1, HFHPC_TASK_OFFSET='+process.env.HFHPC_TASK_OFFSET);process.exit(75)});console.log('Progress: ready');setInterval(()=>{},1000)",
  ];

  async function runUntilUsr1(name: string, params: Partial<RenderSbatchParams>, env: NodeJS.ProcessEnv) {
    const scriptPath = join(dir, `${name}.sbatch`);
    await writeSbatchScript({ scriptPath, script: renderSbatch(basic({ command: WORKER, outputDir: join(dir, 'logs'), ...params })), outputDir: join(dir, 'logs') });
    const child = execa('bash', [scriptPath], { env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, ...env }, reject: false });
    let out = '';
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      // Like `scancel --batch --signal=USR1`: only the batch shell is signalled.
      if (out.includes('Progress: ready') && !out.includes('sent')) {
        out += 'sent';
        child.kill('SIGUSR1');
      }
    });
    const r = await child;
    return { exitCode: r.exitCode, stdout: String(r.stdout), scontrol: await readFile(join(dir, 'scontrol.log'), 'utf8').catch(() => '') };
  }

  test('forwards USR1 to the worker, waits for it, and requeues its own task on exit 75', async () => {
    const r = await runUntilUsr1('requeue', { taskOffset: 2002, requeueMax: 2 }, { SLURM_ARRAY_JOB_ID: '77', SLURM_ARRAY_TASK_ID: '5', SLURM_RESTART_COUNT: '1' });
    expect(r.exitCode).toBe(75);
    expect(r.stdout).toContain('worker got USR1, HFHPC_TASK_OFFSET=2002');
    expect(r.stdout).toContain('worker exited 75');
    expect(r.stdout).toContain('requeueing (restart 2 of at most 2)');
    expect(r.scontrol).toBe('scontrol requeue 77_5\n');
    await rm(join(dir, 'scontrol.log'), { force: true });
  });

  test('TERM (scancel, the hard time limit) is forwarded but never requeues: a cancelled task stays cancelled', async () => {
    const scriptPath = join(dir, 'term.sbatch');
    const worker = [process.execPath, '-e', "process.on('SIGTERM',()=>{console.log('worker got TERM');process.exit(75)});console.log('Progress: ready');setInterval(()=>{},1000)"];
    await writeSbatchScript({ scriptPath, script: renderSbatch(basic({ command: worker, outputDir: join(dir, 'logs') })), outputDir: join(dir, 'logs') });
    const child = execa('bash', [scriptPath], { env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, SLURM_ARRAY_JOB_ID: '79', SLURM_ARRAY_TASK_ID: '1' }, reject: false });
    child.stdout!.on('data', (b: Buffer) => {
      if (b.toString().includes('Progress: ready')) child.kill('SIGTERM');
    });
    const r = await child;
    expect(r.exitCode).toBe(75);
    expect(String(r.stdout)).toContain('worker got TERM');
    expect(String(r.stdout)).toContain('hfhpc: task 79_1: stopped by TERM (scancel or the time limit): not requeued');
    expect(await readFile(join(dir, 'scontrol.log'), 'utf8').catch(() => '')).toBe('');
  });

  test('does not requeue once requeueMax restarts happened', async () => {
    const r = await runUntilUsr1('no-requeue', { requeueMax: 1 }, { SLURM_ARRAY_JOB_ID: '78', SLURM_ARRAY_TASK_ID: '0', SLURM_RESTART_COUNT: '1' });
    expect(r.exitCode).toBe(75);
    expect(r.scontrol).toBe('');
  });
});

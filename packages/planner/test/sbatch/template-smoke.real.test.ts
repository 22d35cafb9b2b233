// The rendered download-array template on the real dev cluster: USR1 delivered to the batch
// shell (as --signal=B:USR1@… does before the time limit) reaches the worker, which exits 75;
// the script requeues its task, which runs again (Restarts=1) and completes. The worker is a
// stand-in node one-liner, so this tests the template and Slurm, not hfhpc work.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { execa } from 'execa';
import { readSbatchTemplate, renderSbatch, splitArrays, writeSbatchScript } from '../../src/sbatch/index.js';
import { SlurmScheduler, waitForJobs } from '@hfhpc/scheduler';
import { describeSlurm } from '../../../scheduler/test/slurm-test-mode.js';

// First run of task 0: print progress until USR1, then exit 75 (lease released). Any other run:
// a few progress lines, exit 0.
const STAND_IN = `
const id = process.env.SLURM_ARRAY_TASK_ID, restart = process.env.SLURM_RESTART_COUNT ?? '0';
const waitForSignal = id === '0' && restart === '0';
let n = 0;
process.on('SIGUSR1', () => { console.log('stand-in task ' + id + ': got USR1, lease released, exit 75'); process.exit(75); });
const tick = setInterval(() => {
  n++;
  console.log('Progress: task ' + id + ' run ' + restart + ' step ' + n);
  if (!waitForSignal && n >= 3) { clearInterval(tick); console.log('stand-in task ' + id + ': done'); }
  if (n > 300) process.exit(1);
}, 200);
`;

describeSlurm('download-array template on real Slurm', () => {
  const scheduler = new SlurmScheduler();
  let dir: string;
  let jobId: string | undefined;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hfhpc-smoke-'));
  });
  afterAll(async () => {
    if (jobId) await scheduler.cancel(jobId).catch(() => {});
    await rm(dir, { recursive: true, force: true });
  });

  test('USR1 → exit 75 → requeued by the script → completes; logs keep both runs', async () => {
    const logs = join(dir, 'logs');
    const [chunk] = splitArrays({ shardCount: 2, maxArraySize: 1001, maxParallel: 1 });
    expect(chunk.arraySpec).toBe('0-1%1');
    const script = renderSbatch({
      template: await readSbatchTemplate({ name: 'download-array' }),
      arraySpec: chunk.arraySpec,
      taskOffset: chunk.taskOffset,
      outputDir: logs,
      jobName: 'hfhpc-smoke',
      time: '5',
      signalSeconds: 60,
      requeueMax: 1,
      command: [process.execPath, '-e', STAND_IN.trim().replace(/\s*\n\s*/g, ' ')], // one line: script lines end at newlines
    });
    const scriptPath = join(dir, 'download.sbatch');
    await writeSbatchScript({ scriptPath, script, outputDir: logs });
    jobId = await scheduler.submit({ scriptPath, cwd: dir });

    // Signal only once the stand-in runs (its handler is installed before the first Progress line).
    const log0 = join(logs, `${jobId}_0.out`);
    for (let i = 0; !(await readFile(log0, 'utf8').catch(() => '')).includes('Progress:'); i++) {
      if (i > 300) throw new Error(`task 0 never printed progress; log: ${await readFile(log0, 'utf8').catch(() => '(none)')}`);
      await sleep(200);
    }
    await execa('scancel', ['--batch', '--signal=USR1', `${jobId}_0`]);

    // The requeued task waits cred_expire (10 s on the dev cluster) before it runs again.
    const states = await waitForJobs({ scheduler, jobIds: [jobId], pollMs: 500, timeoutMs: 120_000 });
    expect(states.map((s) => [s.jobId, s.state, s.exitCode, s.restarts])).toEqual([
      [`${jobId}_0`, 'COMPLETED', 0, 1],
      [`${jobId}_1`, 'COMPLETED', 0, 0],
    ]);

    const first = await readFile(log0, 'utf8');
    expect(first).toContain('Progress: task 0 run 0 step 1');
    expect(first).toContain('stand-in task 0: got USR1, lease released, exit 75');
    expect(first).toContain(`hfhpc: task ${jobId}_0: worker exited 75`);
    expect(first).toContain(`hfhpc: task ${jobId}_0: requeueing (restart 1 of at most 1)`);
    // --open-mode=append: the second run's lines follow the first's.
    expect(first.indexOf('Progress: task 0 run 1 step 3')).toBeGreaterThan(first.indexOf('requeueing'));
    expect(first).toContain(`hfhpc: task ${jobId}_0: worker exited 0`);
    const second = await readFile(join(logs, `${jobId}_1.out`), 'utf8');
    expect(second).toContain('Progress: task 1 run 0 step 3');
    expect(second).not.toContain('requeueing');
    jobId = undefined;
  });
});

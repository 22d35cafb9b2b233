// Time limit and requeue on the real dev cluster: a one-task array with `--time 2` and
// `--signal-seconds 60` downloads a large file through fakehub's bandwidth cap. Slurm sends
// USR1 to the batch shell 60–90 s before the limit (its timer is coarse); the worker releases its
// lease and exits 75, the script requeues the task, and the requeued run (cap lifted by then)
// resumes the partial file with a Range request instead of starting over.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { cdnTransfers, checkCache, describeSlurm, hfhpc, logs, partialSize, plan, plannedFiles, scontrolShowJob, setUp, statusJson, tearDown, until, waitForArray, type E2e } from './helpers.js';

const REPO = 'bigcode/e2e-time-limit';
const BIG = 'data/big.bin';
const SIZE = 128 * 1024 * 1024;
// Slow enough that the file cannot finish before USR1 (at most ~90 s in: 90 MiB < 128 MiB).
// Per connection: a large file is fetched over up to 8 ranged connections, so 1 MiB/s in all.
const CAP = 128 * 1024;

describeSlurm('time limit on real Slurm: USR1 → exit 75 → requeue → resume', () => {
  let e: E2e | undefined;
  beforeAll(async () => {
    e = await setUp({
      name: 'time-limit',
      repos: [REPO],
      config: { repos: [{ id: REPO, files: [{ path: 'README.md', text: '# time limit\n' }, { path: BIG, size: SIZE }] }] },
    });
  });
  afterAll(async () => {
    await tearDown(e);
  });

  test('the task is signalled before its limit, requeued once, and finishes from the partial bytes', async () => {
    const ctx = e!;
    const cap = ctx.hub.faults.bandwidth({ host: 'cdn', path: BIG, bytesPerSecond: CAP });
    const planned = await plan(ctx, ['--manifest', ctx.manifest, '--submit', '--shards', '1', '--max-parallel', '1', '--time', '2', '--signal-seconds', '60', '--lease-ttl', '10', '--job-name', 'hfhpc-e2e-time-limit']);
    const [jobId] = planned.job_ids;
    const task = `${jobId}_0`;
    const log = async () => (await logs(ctx)).get(`${task}.out`) ?? '';

    // USR1 comes 30–60 s after the start; the script requeues once the worker has exited 75.
    await until('the task to requeue itself', async () => /requeueing \(restart 1 of at most 3\)/.test(await log()), 110_000, 1000);
    cap.clear();
    const first = await log();
    expect(first).toContain('SIGUSR1 received: stopping new work, releasing the lease');
    expect(first).toContain('released the lease on shard 0');
    expect(first).toContain(`hfhpc: task ${task}: worker exited 75`);
    const { blob } = await ctx.hub.fileInfo(REPO, BIG);
    const partial = await partialSize(ctx.root, REPO, blob);
    expect(partial).toBeGreaterThan(8 * 1024 * 1024);
    expect(partial).toBeLessThan(SIZE);

    // The requeued task waits cred_expire (10 s here) and a scheduling pass, then finishes fast.
    const states = await waitForArray(ctx, jobId, 1, 60_000);
    expect(states.map((s) => [s.jobId, s.state, s.exitCode, s.restarts])).toEqual([[task, 'COMPLETED', 0, 1]]);
    expect(await scontrolShowJob(task)).toMatchObject({ JobState: 'COMPLETED', Restarts: '1', ExitCode: '0:0' });

    const all = await log();
    const rerun = all.slice(all.indexOf('requeueing'));
    expect(rerun).toContain(`hfhpc: task ${task} on`);
    expect(rerun).toMatch(/starts \(restart 1,/);
    // Over ranged connections the resume line counts the bytes kept across all segments.
    const kept = Number(new RegExp(`resuming ${BIG} at byte (\\d+) `).exec(rerun)?.[1] ?? 0);
    expect(kept).toBeGreaterThan(8 * 1024 * 1024);
    expect(kept).toBeLessThanOrEqual(partial);
    expect(rerun).toContain(`hfhpc: task ${task}: worker exited 0`);
    expect(all).toMatch(/Progress: /);

    // On the wire: the first run's ranged requests cut short, then the rerun asks each segment
    // only for what it lacks — no Range start repeats (nothing starts over) and < 10 % is re-sent.
    const transfers = cdnTransfers(ctx.hub, BIG);
    const starts = transfers.map((t) => t.rangeStart);
    expect(starts.filter((s) => s === 0)).toHaveLength(1);
    expect(new Set(starts).size).toBe(starts.length);
    expect(starts.length).toBeGreaterThan(1);
    const refetched = transfers.reduce((s, t) => s + t.bytesSent, 0) - SIZE;
    expect(refetched).toBeGreaterThanOrEqual(0);
    expect(refetched).toBeLessThan(SIZE / 10);

    expect(await checkCache({ root: ctx.root, hub: ctx.hub, complete: await plannedFiles(ctx.hub, REPO) })).toEqual([]);
    const status = await statusJson(ctx);
    expect(status.state).toBe('done');
    expect(status.shards).toMatchObject([{ index: 0, state: 'done', owner: null }]);
    expect(status.slurm?.tasks).toMatchObject([{ array_job_id: jobId, task_id: 0, state: 'COMPLETED', restarts: 1 }]);
    const text = await hfhpc(ctx, ['status', '--root', ctx.root]);
    expect(text.stdout).toMatch(new RegExp(`${task}\\s+COMPLETED.*restarts 1`));
  }, 200_000);
});

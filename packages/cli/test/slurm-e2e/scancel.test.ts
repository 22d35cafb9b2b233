// Tasks stopped from outside on the real dev cluster, and what `hfhpc status` shows meanwhile.
// Three shards, two tasks running (big files behind fakehub's bandwidth cap), the third task
// held in the queue:
// - `scancel` of task 0: the worker gets TERM, releases its lease and exits 75; the task ends
//   CANCELLED and is not requeued (a cancelled task stays cancelled).
// - `scancel --full --signal=STOP` freezes task 1 (shell and worker, as a hung node would): its
//   lease is no longer renewed and expires after `--lease-ttl 5`.
// - Released, task 2 does its own shard, then takes over both others and resumes their partial
//   files; the frozen task, cancelled at last, wakes without its lease and touches nothing.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { StateError, appendEvent, openStore } from '@hfhpc/core';
import {
  alive,
  cdnTransfers,
  checkCache,
  describeSlurm,
  hfhpc,
  logs,
  partialSize,
  plan,
  plannedFiles,
  procState,
  run,
  setUp,
  statusJson,
  taskState,
  tearDown,
  until,
  waitForArray,
  type E2e,
} from './helpers.js';

const REPO = 'bigcode/e2e-scancel';
const BIG = ['data/big-a.bin', 'data/big-b.bin'];
const MiB = 1024 * 1024;

/** A write on the state database goes through within about 2 s (no frozen process holds its lock). */
function canWrite(dbPath: string): boolean {
  const store = openStore({ path: dbPath, create: false, busyTimeoutMs: 2000, busyRetryMs: 0 });
  try {
    appendEvent(store, { kind: 'test-probe', detail: 'e2e lock probe' });
    return true;
  } catch (err) {
    if (err instanceof StateError) return false;
    throw err;
  } finally {
    store.close();
  }
}

async function slurm(args: string[]): Promise<void> {
  const r = await run(args[0], args.slice(1));
  if (r.code !== 0) throw new Error(`${args.join(' ')} exited ${r.code}: ${r.stderr}`);
}

describeSlurm('scancel on real Slurm: a cancelled task and a frozen one lose their shards to another task', () => {
  let e: E2e | undefined;
  beforeAll(async () => {
    e = await setUp({
      name: 'scancel',
      repos: [REPO],
      config: {
        repos: [
          {
            id: REPO,
            // Largest first into the lightest shard: big-a → shard 0, big-b → 1, the rest → 2.
            files: [{ path: BIG[0], size: '24MiB' }, { path: BIG[1], size: '20MiB' }],
            generate: { count: 60, prefix: 'data/small/', size: [100, 8000], ext: '.txt' },
          },
        ],
      },
    });
  });
  afterAll(async () => {
    await tearDown(e);
  });

  test('the cancelled task is not requeued, the frozen one\'s lease expires, a third task finishes both shards; status shows Slurm next to the database', async () => {
    const ctx = e!;
    const caps = BIG.map((path) => ctx.hub.faults.bandwidth({ host: 'cdn', path, bytesPerSecond: 1 * MiB }));
    const planned = await plan(ctx, ['--manifest', ctx.manifest, '--submit', '--shards', '3', '--max-parallel', '2', '--lease-ttl', '5', '--job-name', 'hfhpc-e2e-scancel']);
    const [jobId] = planned.job_ids;
    const t = (i: number) => `${jobId}_${i}`;
    // Task 2 waits behind the %2 throttle; hold it so it starts only when we say.
    await slurm(['scontrol', 'uhold', t(2)]);

    const blobs = await Promise.all(BIG.map(async (p) => (await ctx.hub.fileInfo(REPO, p)).blob));
    await until('both big files partly on disk', async () => (await Promise.all(blobs.map((b) => partialSize(ctx.root, REPO, b)))).every((n) => n > 2 * MiB), 60_000);

    // While the array runs, status shows each task's Slurm state next to the shard it leases.
    const running = await statusJson(ctx);
    const byTask = Object.fromEntries((running.slurm?.tasks ?? []).map((x) => [`${x.array_job_id}_${x.task_id}`, x]));
    expect(byTask[t(0)]).toMatchObject({ state: 'RUNNING', shards: [0] });
    expect(byTask[t(1)]).toMatchObject({ state: 'RUNNING', shards: [1] });
    expect(byTask[t(2)]).toMatchObject({ state: 'PENDING', reason: 'JobHeldUser', shards: [] });
    expect(running.shards.map((s) => [s.index, s.state, s.owner?.split('@')[0] ?? null])).toEqual([
      [0, 'running', t(0)],
      [1, 'running', t(1)],
      [2, 'pending', null],
    ]);
    const text = await hfhpc(ctx, ['status', '--root', ctx.root]);
    expect(text.stdout).toContain(`slurm: jobs ${jobId}`);
    expect(text.stdout).toMatch(new RegExp(`${t(0)}\\s+RUNNING.*shards 0`));
    expect(text.stdout).toMatch(new RegExp(`${t(1)}\\s+RUNNING.*shards 1`));
    expect(text.stdout).toMatch(new RegExp(`${t(2)}\\s+PENDING\\s+JobHeldUser`));
    expect(text.stdout).toMatch(new RegExp(`running #0 .* ${t(0)}@`));
    const frozenPid = Number(running.shards[1].owner!.split(':').pop());

    // Freeze task 1, cancel task 0; new requests go at full speed from now on. A process
    // stopped inside one of its (millisecond) commits would hold the database lock for every
    // task (the hazard docs/operations.md warns of for suspended jobs): thaw and freeze again
    // until it is stopped outside one, which is what this test is about.
    await until('task 1 frozen outside a database transaction', async () => {
      await slurm(['scancel', '--full', '--signal=STOP', t(1)]);
      await until('the frozen worker stopped', async () => (await procState(frozenPid)) === 'T', 10_000, 100);
      if (canWrite(join(ctx.root, '_hfhpc', 'state.sqlite'))) return true;
      await slurm(['scancel', '--full', '--signal=CONT', t(1)]);
      await sleep(200);
      return false;
    }, 30_000, 0);
    const frozenAt = await partialSize(ctx.root, REPO, blobs[1]);
    await slurm(['scancel', t(0)]);
    for (const c of caps) c.clear();

    await until('task 0 to end cancelled', async () => (await taskState(ctx, t(0)))?.state === 'CANCELLED', 30_000);
    const released = await until('shard 0 released and shard 1\'s lease expired', async () => {
      const s = await statusJson(ctx);
      return s.shards[0].state === 'pending' && s.shards[0].owner === null && s.shards[1].lease_expired ? s : undefined;
    }, 30_000);
    expect(released.slurm?.leases_without_task).toEqual([]); // task 1 still runs in Slurm, frozen
    const log0 = (await logs(ctx)).get(`${t(0)}.out`) ?? '';
    expect(log0).toContain('SIGTERM received: stopping new work, releasing the lease');
    expect(log0).toContain(`hfhpc: task ${t(0)}: worker exited 75`);
    expect(log0).toContain('not requeued');
    expect(log0).not.toContain('requeueing');

    await slurm(['scontrol', 'release', t(2)]);
    await until('every shard done', async () => (await statusJson(ctx)).state === 'done', 60_000);
    const log2 = (await logs(ctx)).get(`${t(2)}.out`) ?? '';
    const claims = log2.match(/claimed shard \d+/g) ?? [];
    expect([claims[0], ...claims.slice(1).sort()]).toEqual(['claimed shard 2', 'claimed shard 0', 'claimed shard 1']);
    for (const p of BIG) expect(log2).toMatch(new RegExp(`resuming ${p} at byte [1-9]`));

    // The frozen task: cancelled now, it wakes (CONT, TERM), finds its lease gone and ends.
    await slurm(['scancel', t(1)]);
    const states = await waitForArray(ctx, jobId, 3, 60_000);
    expect(states.map((s) => [s.jobId, s.state, s.restarts])).toEqual([
      [t(0), 'CANCELLED', 0],
      [t(1), 'CANCELLED', 0],
      [t(2), 'COMPLETED', 0],
    ]);
    await until('the frozen worker gone', () => !alive(frozenPid), 20_000, 200);
    const log1 = (await logs(ctx)).get(`${t(1)}.out`) ?? '';
    expect(log1).toContain('lost the lease on shard 1');
    expect(log1).not.toMatch(/shard 1: (done|failed)/);
    expect(log1).not.toContain('requeueing');

    // Each big file: one request cut short, one Range request resuming it. The cancelled one was
    // stopped cleanly (little re-sent); the frozen one's socket buffers filled while it slept.
    const [a, b] = BIG.map((p) => cdnTransfers(ctx.hub, p));
    expect(a.map((x) => x.rangeStart > 0)).toEqual([false, true]);
    expect(a.reduce((s, x) => s + x.bytesSent, 0) - 24 * MiB).toBeLessThan(2.4 * MiB);
    expect(b.map((x) => x.rangeStart > 0)).toEqual([false, true]);
    expect(b[1].rangeStart).toBeGreaterThanOrEqual(frozenAt);

    // Nothing the woken worker did afterwards spoiled the cache.
    expect(await checkCache({ root: ctx.root, hub: ctx.hub, complete: await plannedFiles(ctx.hub, REPO) })).toEqual([]);
    const done = await statusJson(ctx);
    expect(done.state).toBe('done');
    expect(done.totals.files_done).toBe(planned.files);
    expect(done.shards.map((s) => [s.index, s.state, s.owner])).toEqual([0, 1, 2].map((i) => [i, 'done', null]));
  }, 240_000);
});

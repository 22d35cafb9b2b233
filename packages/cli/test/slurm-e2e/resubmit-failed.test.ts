// Re-submitting only the failed shards on the real dev cluster: fakehub answers 404 for one file
// in shard 1 and one in shard 3, so those shards end failed (their tasks exit 1); once the
// fault is gone, `hfhpc plan --resubmit-failed --submit` renders an array of exactly those
// indices, with the plan's own settings, and submits it; afterwards everything is done.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { listShards, openStore, shardFiles } from '@hfhpc/core';
import { parseArraySpec } from '@hfhpc/scheduler';
import { arrayLine, checkCache, describeSlurm, hfhpc, logs, plan, plannedFiles, setUp, statusJson, tearDown, waitForArray, type E2e } from './helpers.js';

const REPO = 'bigcode/e2e-resubmit';
// Four large files of distinct sizes: largest first into the lightest shard puts them in
// shards 0..3 in this order; the small files fill up shard 3.
const LARGE = ['data/a.bin', 'data/b.bin', 'data/c.bin', 'data/d.bin'];
const MISSING = [LARGE[1], LARGE[3]];

describeSlurm('hfhpc plan --resubmit-failed --submit on real Slurm', () => {
  let e: E2e | undefined;
  beforeAll(async () => {
    e = await setUp({
      name: 'resubmit',
      repos: [REPO],
      config: {
        repos: [
          {
            id: REPO,
            files: LARGE.map((path, i) => ({ path, size: `${8 - 2 * i}MiB`, lfs: true })),
            generate: { count: 40, prefix: 'data/small/', size: [100, 20_000], ext: '.txt' },
          },
        ],
      },
    });
  });
  afterAll(async () => {
    await tearDown(e);
  });

  test('an array of just the failed indices, submitted with the plan\'s settings, finishes the download', async () => {
    const ctx = e!;
    const faults = MISSING.map((path) => ctx.hub.faults.serverError({ endpoint: 'resolve', path, status: 404 }));
    const planned = await plan(ctx, ['--manifest', ctx.manifest, '--submit', '--shards', '4', '--max-parallel', '2', '--lease-ttl', '30', '--job-name', 'hfhpc-e2e-resubmit']);
    const [firstJob] = planned.job_ids;

    // Which shard holds which file, as stored: the faulty files are in shards 1 and 3.
    const store = openStore({ path: `${ctx.root}/_hfhpc/state.sqlite`, readonly: true });
    let shardOf: Map<string, number>;
    try {
      shardOf = new Map(listShards(store, planned.plan_id).flatMap((s) => shardFiles(store, s.id).map((f) => [f.path, s.index] as const)));
    } finally {
      store.close();
    }
    const failing = [...new Set(MISSING.map((p) => shardOf.get(p)!))].sort();
    expect(failing).toEqual([1, 3]);

    // A task that finished its own shard steals pending ones, so which task meets the 404s
    // varies; the tasks that did exit 1 (some files failed).
    const first = await waitForArray(ctx, firstJob, 4, 90_000);
    for (const s of first) expect([s.state, s.exitCode]).toEqual(s.state === 'COMPLETED' ? ['COMPLETED', 0] : ['FAILED', 1]);
    expect(first.filter((s) => s.state === 'FAILED').length).toBeGreaterThan(0);
    for (const f of faults) expect(f.hits).toBeGreaterThan(0);
    const failed = await statusJson(ctx);
    expect(failed.shards.map((s) => s.state)).toEqual([0, 1, 2, 3].map((i) => (failing.includes(i) ? 'failed' : 'done')));
    expect(failed.failures.map((f) => f.path)).toEqual(expect.arrayContaining(MISSING));
    expect(failed.totals.files_failed).toBeGreaterThanOrEqual(MISSING.length);

    // The cause is fixed; re-submit only what failed.
    ctx.hub.faults.clear();
    const r = await hfhpc(ctx, ['plan', '--resubmit-failed', '--submit', '--json', '--root', ctx.root]);
    expect({ code: r.code, stderr: r.code === 0 ? '' : r.stderr }).toEqual({ code: 0, stderr: '' });
    const resubmitted = JSON.parse(r.stdout) as { plan_id: number; shards: number[]; scripts: string[]; job_ids: string[] };
    ctx.jobIds.push(...resubmitted.job_ids);
    expect(resubmitted).toMatchObject({ plan_id: planned.plan_id, shards: failing });
    expect(resubmitted.scripts).toHaveLength(1);
    expect(resubmitted.job_ids).toHaveLength(1);
    const spec = await arrayLine(resubmitted.scripts[0]);
    expect(spec).toBe('1,3%2');
    expect(parseArraySpec(spec)).toEqual({ indices: failing, maxParallel: 2 });
    // Same plan, same settings: the stored Hub URL, job name and lease TTL, no token.
    const script = await readFile(resubmitted.scripts[0], 'utf8');
    expect(script).toContain(`--hub-url ${ctx.hub.hubUrl}`);
    expect(script).toContain('--lease-ttl 30');
    expect(script).toContain('#SBATCH --job-name=hfhpc-e2e-resubmit');
    expect(script).not.toContain(ctx.env.HF_TOKEN!);

    const [secondJob] = resubmitted.job_ids;
    const second = await waitForArray(ctx, secondJob, 2, 60_000);
    expect(second.map((s) => [s.jobId, s.state, s.exitCode])).toEqual(failing.map((i) => [`${secondJob}_${i}`, 'COMPLETED', 0]));
    // The re-run claimed exactly the failed shards, once each.
    const rerunLogs = [...(await logs(ctx)).entries()].filter(([name]) => name.startsWith(`${secondJob}_`)).map(([, text]) => text);
    expect(rerunLogs).toHaveLength(2);
    expect((rerunLogs.join('\n').match(/claimed shard \d+/g) ?? []).sort()).toEqual(failing.map((i) => `claimed shard ${i}`));

    expect(await checkCache({ root: ctx.root, hub: ctx.hub, complete: await plannedFiles(ctx.hub, REPO) })).toEqual([]);
    const done = await statusJson(ctx);
    expect(done.state).toBe('done');
    expect(done.totals).toMatchObject({ files: planned.files, files_done: planned.files, files_failed: 0 });
    expect(done.failures).toEqual([]);
    expect(done.job_ids).toEqual([firstJob, secondJob]);
  }, 200_000);
});

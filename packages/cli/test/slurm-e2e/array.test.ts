// A whole download on the real dev cluster: `hfhpc plan --submit --max-parallel 2 --shards 4`
// against fakehub, the array runs `hfhpc work` in every task, and afterwards every file is
// verified in the Hugging Face cache layout, `status --json` reports done with the plan's totals
// and the Slurm logs hold the workers' Progress: lines.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { TOKEN, checkCache, describeSlurm, hfhpc, logs, plan, plannedFiles, setUp, statusJson, tearDown, waitForArray, type E2e } from './helpers.js';

const REPO = 'bigcode/e2e-array';

describeSlurm('hfhpc plan --submit on real Slurm: the whole array', () => {
  let e: E2e | undefined;
  beforeAll(async () => {
    e = await setUp({
      name: 'array',
      repos: [REPO],
      config: {
        repos: [
          {
            id: REPO,
            files: [
              { path: 'README.md', text: '# e2e array\n' },
              { path: 'data/large-0.bin', size: '12MiB' },
              { path: 'data/large-1.bin', size: '6MiB', lfs: true, seed: 11 },
              { path: 'data/large-1-copy.bin', size: '6MiB', lfs: true, seed: 11 }, // same blob: fetched once
              { path: 'data/medium.bin', size: '900KiB', lfs: true },
            ],
            generate: { count: 300, prefix: 'data/small/', size: [100, 30_000], perDir: 100, ext: '.jsonl' },
          },
        ],
      },
    });
  });
  afterAll(async () => {
    await tearDown(e);
  });

  test('every file verified in the cache layout, status done with the plan totals, Progress: lines in the logs', async () => {
    const ctx = e!;
    const planned = await plan(ctx, ['--manifest', ctx.manifest, '--submit', '--max-parallel', '2', '--shards', '4', '--job-name', 'hfhpc-e2e-array']);
    expect(planned).toMatchObject({ plan_id: 1, files: 305, shards: 4 });
    expect(planned.job_ids).toHaveLength(1);
    const [jobId] = planned.job_ids;

    // The script carries the Hub URL and the array throttle, never the token.
    const script = await readFile(planned.scripts[0], 'utf8');
    expect(script).toContain('#SBATCH --array=0-3%2');
    expect(script).toContain(`--hub-url ${ctx.hub.hubUrl}`);
    expect(script).not.toContain(TOKEN);
    expect((await stat(join(ctx.root, '_hfhpc', 'plans', '1', 'logs'))).isDirectory()).toBe(true);

    const states = await waitForArray(ctx, jobId, 4, 90_000);
    expect(states.map((s) => [s.jobId, s.state, s.exitCode])).toEqual([0, 1, 2, 3].map((i) => [`${jobId}_${i}`, 'COMPLETED', 0]));

    // The repo is gated: files on disk prove the token reached the tasks through their environment.
    const files = await plannedFiles(ctx.hub, REPO);
    expect(await checkCache({ root: ctx.root, hub: ctx.hub, complete: files })).toEqual([]);
    expect(ctx.hub.requests.filter((r) => r.host === 'cdn' && r.authorization)).toEqual([]);

    const status = await statusJson(ctx);
    expect(status.state).toBe('done');
    expect(status.totals).toEqual({ files: planned.files, files_done: planned.files, files_failed: 0, bytes: planned.bytes, bytes_done: planned.bytes });
    expect(status.shards.map((s) => [s.index, s.state, s.owner])).toEqual([0, 1, 2, 3].map((i) => [i, 'done', null]));
    expect(status.job_ids).toEqual([jobId]);
    expect(status.slurm?.tasks.map((t) => [`${t.array_job_id}_${t.task_id}`, t.state])).toEqual([0, 1, 2, 3].map((i) => [`${jobId}_${i}`, 'COMPLETED']));

    // One log per task (%A_%a), each with the worker's Progress: line and the script's own lines.
    const out = await logs(ctx);
    expect([...out.keys()]).toEqual([0, 1, 2, 3].map((i) => `${jobId}_${i}.out`));
    for (const [name, text] of out) {
      const task = name.replace(/\.out$/, '');
      expect({ name, progress: /Progress: .*files \d+\/\d+/.test(text) }).toEqual({ name, progress: true });
      expect(text).toContain(`hfhpc: task ${task}: worker exited 0`);
    }
    // Each shard was claimed by exactly one task.
    const claims = [...out.values()].join('\n').match(/claimed shard \d+/g) ?? [];
    expect(claims.sort()).toEqual([0, 1, 2, 3].map((i) => `claimed shard ${i}`));

    // Text status: the database's view and Slurm's next to each other.
    const text = await hfhpc(ctx, ['status', '--root', ctx.root]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/plan 1 · done/);
    expect(text.stdout).toContain(`slurm: jobs ${jobId}`);
    for (let i = 0; i < 4; i++) expect(text.stdout).toMatch(new RegExp(`${jobId}_${i}\\s+COMPLETED`));
  }, 150_000);
});

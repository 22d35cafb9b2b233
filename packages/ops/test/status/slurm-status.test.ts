// Slurm's view next to the database's, on the real dev cluster (scripts/dev-slurm.sh start):
// a running array task holding no lease, and a live lease whose task Slurm does not run.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { claimShard, setPlanJobIds } from '@hfhpc/core';
import { SlurmScheduler, waitForJobs } from '@hfhpc/scheduler';
import { collectStatus, formatStatusText } from '../../src/status/index.js';
import { describeSlurm } from '../../../scheduler/test/slurm-test-mode.js';
import { makeCache, type CacheFixture } from '../verify/cache-fixture.js';
import { runCli } from './cli.js';

describeSlurm('status with Slurm job states (real Slurm)', () => {
  const scheduler = new SlurmScheduler();
  let fx: CacheFixture;
  let jobId: string | undefined;

  beforeAll(async () => {
    fx = makeCache({
      clock: { t: Date.now() },
      files: [0, 1, 2].map((shard) => ({ repo: 'bigcode/slurm-status', path: `f${shard}`, content: `x${shard}`, shard, state: 'pending' as const })),
    });
    const script = path.join(fx.root, 'sleep.sbatch');
    writeFileSync(script, `#!/bin/bash\n#SBATCH --job-name=hfhpc-status-test\n#SBATCH --array=0-1\n#SBATCH --output=${fx.root}/%A_%a.out\nsleep 120\n`);
    jobId = await scheduler.submit({ scriptPath: script, cwd: fx.root });
    await waitForJobs({ scheduler, jobIds: [jobId], pollMs: 300, timeoutMs: 60_000, until: (s) => s.filter((x) => x.state === 'RUNNING').length === 2 });
    fx.clock.t = Date.now();
    setPlanJobIds(fx.store, fx.planId, [jobId]);
    claimShard(fx.store, { planId: fx.planId, owner: `${jobId}_0@vm:1`, preferIndex: 0, ttlMs: 600_000 });
    // Task 7 never existed: as if Slurm had killed it without the lease being released.
    claimShard(fx.store, { planId: fx.planId, owner: `${jobId}_7@vm:2`, preferIndex: 2, ttlMs: 600_000 });
  });

  afterAll(async () => {
    if (jobId) await scheduler.cancel(jobId).catch(() => undefined);
    fx?.cleanup();
  });

  it('shows each task\'s state with its shards, and both kinds of mismatch', async () => {
    fx.clock.t = Date.now();
    const r = await collectStatus({ store: fx.store, scheduler });
    expect(r.slurm).toMatchObject({ available: true, error: null, job_ids: [jobId] });
    const tasks = Object.fromEntries(r.slurm!.tasks.map((t) => [`${t.array_job_id}_${t.task_id}`, t]));
    expect(tasks[`${jobId}_0`]).toMatchObject({ state: 'RUNNING', shards: [0] });
    expect(tasks[`${jobId}_1`]).toMatchObject({ state: 'RUNNING', shards: [] });
    expect(r.slurm!.running_without_lease).toEqual([`${jobId}_1`]);
    expect(r.slurm!.leases_without_task).toEqual([{ shard: 2, owner: `${jobId}_7@vm:2` }]);
    const text = formatStatusText(r);
    expect(text).toContain(`slurm: jobs ${jobId}`);
    expect(text).toContain(`running in Slurm without a lease: ${jobId}_1`);
  });

  it('the CLI asks Slurm by default and not with --no-slurm', async () => {
    const withSlurm = JSON.parse((await runCli(['status', '--json', '--root', fx.root])).stdout);
    expect(withSlurm.slurm).toMatchObject({ available: true, error: null });
    expect(withSlurm.slurm.tasks.map((t: { task_id: number }) => t.task_id)).toEqual([0, 1]);
    const without = JSON.parse((await runCli(['status', '--json', '--no-slurm', '--root', fx.root])).stdout);
    expect(without.slurm).toBeNull();
  });
});

import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import { Writable } from 'node:stream';
import path from 'node:path';
import { createLogger, getPlan, listShards } from '@hfhpc/core';
import { planDownload } from '../src/plan-download.js';
import { resubmitFailed } from '../src/resubmit-failed.js';
import type { Scheduler } from '@hfhpc/scheduler';
import { failShards, planFiles, setup, withStore, type TestEnv } from './plan-helpers.js';

const logger = createLogger({ stream: new Writable({ write: (_c, _e, cb) => cb() }) });
let t: TestEnv;
beforeEach(async () => {
  t = await setup();
});
afterEach(async () => {
  await t.close();
});

function fakeScheduler(ids: string[]): Scheduler & { scripts: string[] } {
  const scripts: string[] = [];
  return {
    scripts,
    kind: 'slurm',
    available: async () => true,
    submit: async ({ scriptPath }) => {
      scripts.push(scriptPath);
      return ids.shift() ?? 'no-id';
    },
    jobStates: async () => [],
    cancel: async () => undefined,
  };
}

describe('resubmitFailed', () => {
  it('puts failed shards and their failed files back to pending and submits an array of just those indices', async () => {
    const manifestPath = await t.manifest({ datasets: [{ repo: 'org/many' }], slurm: { time: '1:00:00' } });
    const first = await planDownload({ manifestPath, shards: 6, maxParallel: 4, env: t.env, exec: t.noSlurm, logger, submit: true, scheduler: fakeScheduler(['500']) });
    const planId = first.planId!;
    failShards(t.dbPath, planId, [1, 3, 4]);

    const dry = await resubmitFailed({ env: t.env, argv: { root: t.root }, dryRun: true, logger });
    expect(dry).toEqual({ planId, shards: [1, 3, 4], scripts: [], jobIds: [], dryRun: true, dbPath: t.dbPath });
    expect(withStore(t.dbPath, (s) => listShards(s, planId).filter((x) => x.state === 'failed').length)).toBe(3);

    const scheduler = fakeScheduler(['501']);
    const r = await resubmitFailed({ env: t.env, argv: { root: t.root }, exec: t.noSlurm, logger, scheduler, slurm: { time: '3:00:00' } });
    const script = path.join(t.root, '_hfhpc', 'plans', String(planId), 'resubmit.sbatch');
    expect(r).toEqual({ planId, shards: [1, 3, 4], scripts: [script], jobIds: ['501'], dryRun: false, dbPath: t.dbPath });
    expect(scheduler.scripts).toEqual([script]);
    const text = await readFile(script, 'utf8');
    expect(text).toContain('#SBATCH --array=1,3-4%3');
    expect(text).toContain('#SBATCH --time=3:00:00'); // the override wins over the plan's 1:00:00
    expect(text).toContain(`--plan-id ${planId}`);

    const shards = withStore(t.dbPath, (s) => listShards(s, planId));
    expect(shards.map((s) => s.state)).toEqual(Array(6).fill('pending'));
    expect(planFiles(t.dbPath, planId).filter((f) => f.state !== 'pending')).toEqual([]);
    expect(withStore(t.dbPath, (s) => getPlan(s, planId)?.jobIds)).toEqual(['500', '501']);

    // Nothing failed any more: nothing to submit.
    const none = await resubmitFailed({ env: t.env, argv: { root: t.root }, exec: t.noSlurm, logger, scheduler });
    expect(none).toMatchObject({ shards: [], scripts: [], jobIds: [] });
    expect(scheduler.scripts).toHaveLength(1);
  });

  it('says so when there is no plan to re-submit', async () => {
    await expect(resubmitFailed({ env: t.env, argv: { root: t.root }, logger })).rejects.toMatchObject({ code: 'E_STATE' });
  });
});

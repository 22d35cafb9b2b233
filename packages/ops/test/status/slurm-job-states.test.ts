// slurmJobStates: status asks Slurm through a SlurmScheduler made at the first question, so a
// plan without job ids runs no Slurm command. Real store, a recording Exec in place of execa.
import { afterEach, describe, expect, it } from '@jest/globals';
import { claimShard, setPlanJobIds } from '@hfhpc/core';
import type { Exec } from '@hfhpc/scheduler';
import { collectStatus, slurmJobStates } from '../../src/status/index.js';
import { makeCache, type CacheFixture } from '../verify/cache-fixture.js';

let fx: CacheFixture | undefined;
afterEach(() => fx?.cleanup());

function recordingExec(squeue: string): { exec: Exec; calls: string[] } {
  const calls: string[] = [];
  const exec: Exec = async (file, args) => {
    calls.push([file, ...args].join(' '));
    if (file === 'squeue' && args[0] !== '--version') return { exitCode: 0, stdout: squeue, stderr: '' };
    if (file === 'sacct') return { exitCode: 1, stdout: '', stderr: 'Slurm accounting storage is disabled' };
    return { exitCode: 0, stdout: 'slurm 23.11.4\n', stderr: '' };
  };
  return { exec, calls };
}

describe('slurmJobStates', () => {
  it('runs no Slurm command for a plan without job ids', async () => {
    const f = (fx = makeCache({ files: [{ repo: 'org/a', path: 'x', content: 'xyz', shard: 0, state: 'pending' }] }));
    const { exec, calls } = recordingExec('');
    const report = await collectStatus({ store: f.store, scheduler: slurmJobStates({ exec }) });
    expect(report.job_ids).toEqual([]);
    expect(report.slurm).toBeNull();
    expect(calls).toEqual([]);
  });

  it('asks squeue once the plan has job ids and puts its answer next to the leases', async () => {
    const f = (fx = makeCache({
      files: [
        { repo: 'org/a', path: 'x', content: 'xyz', shard: 0, state: 'pending' },
        { repo: 'org/a', path: 'y', content: 'abc', shard: 1, state: 'pending' },
      ],
    }));
    setPlanJobIds(f.store, f.planId, ['77']);
    claimShard(f.store, { planId: f.planId, owner: '77_0@node1:10', preferIndex: 0, ttlMs: 600_000 });
    const { exec, calls } = recordingExec('77_0|77|0|RUNNING|None|0|0|\n77_1|77|1|RUNNING|None|0|0|\n');
    const source = slurmJobStates({ exec });
    expect(calls).toEqual([]); // made, not yet asked
    const report = await collectStatus({ store: f.store, scheduler: source });
    expect(calls.map((c) => c.split(' ')[0])).toEqual(['sbatch', 'squeue', 'sacct', 'squeue']);
    expect(report.slurm).toMatchObject({ available: true, job_ids: ['77'], running_without_lease: ['77_1'], leases_without_task: [] });
  });
});

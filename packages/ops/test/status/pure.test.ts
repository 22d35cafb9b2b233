import { describe, expect, it } from '@jest/globals';
import { RateTracker, failureCause, groupFailures, ownerTaskKey, reconcileSlurm, type ShardStatus, type StatusReport } from '../../src/status/index.js';

const shard = (index: number, owner: string | null, expired = false): ShardStatus => ({
  index, state: owner ? 'running' : 'pending', bytes: 1, bytes_done: 0, files: 1, files_done: 0, owner,
  lease_expires_at: owner ? '2030-01-01T00:00:00.000Z' : null, lease_expired: expired, attempts: 1, last_error: null,
});

describe('failure causes', () => {
  it('blank out what differs between files so one cause makes one group', () => {
    const groups = groupFailures({
      failures: [
        { repo: 'a/b', path: 'x/1.parquet', error: 'sha256 mismatch for data/x/1.parquet: got 5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03' },
        { repo: 'a/b', path: 'x/2.parquet', error: 'sha256 mismatch for data/x/2.parquet: got 0000b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03' },
        { repo: 'a/c', path: 'y', error: 'HTTP 503 after 8 attempts' },
      ],
    });
    expect(groups).toEqual([
      { cause: 'sha256 mismatch for <path>: got <sha>', count: 2, examples: ['a/b: x/1.parquet', 'a/b: x/2.parquet'] },
      { cause: 'HTTP N after N attempts', count: 1, examples: ['a/c: y'] },
    ]);
    expect(failureCause('first line\nstack trace')).toBe('first line');
  });
});

describe('Slurm next to the database', () => {
  it('finds tasks running without a lease and live leases whose task is gone', () => {
    expect(ownerTaskKey('4242_7@node:1')).toBe('4242_7');
    expect(ownerTaskKey('local@host:99')).toBeNull();
    const s = reconcileSlurm({
      jobIds: ['4242'],
      jobs: [
        { jobId: '4242_0', arrayJobId: '4242', taskId: 0, state: 'RUNNING', reason: 'None', exitCode: null, restarts: 0 },
        { jobId: '4242_1', arrayJobId: '4242', taskId: 1, state: 'RUNNING', reason: 'None', exitCode: null, restarts: 1 },
        { jobId: '4242_2', arrayJobId: '4242', taskId: 2, state: 'FAILED', reason: 'NonZeroExitCode', exitCode: 1, restarts: 0 },
      ],
      shards: [shard(0, '4242_0@n1:1'), shard(1, null), shard(2, '4242_2@n2:2'), shard(3, '4242_2@n2:2', true), shard(4, 'local@h:3')],
    });
    expect(s.tasks.map((t) => [t.job_id, t.shards])).toEqual([
      ['4242_0', [0]],
      ['4242_1', []],
      ['4242_2', [2, 3]],
    ]);
    expect(s.running_without_lease).toEqual(['4242_1']);
    // Shard 3's lease has expired already: cleanup's business, not a mismatch.
    expect(s.leases_without_task).toEqual([{ shard: 2, owner: '4242_2@n2:2' }]);
  });
});

describe('RateTracker', () => {
  const report = (at: number, done: number): StatusReport =>
    ({
      plan_id: 1, job_ids: [], generated_at: new Date(at).toISOString(), state: 'running',
      totals: { files: 1, files_done: 0, files_failed: 0, bytes: 10_000, bytes_done: done },
      rate_bytes_per_s: null, rate_window_s: 300, rate_source: 'completions', eta_s: null,
      datasets: [{ repo: 'a/b', revision: 'main', commit: 'c', files: 1, files_done: 0, files_failed: 0, files_running: 1, bytes: 10_000, bytes_done: done, state: 'running', rate_bytes_per_s: null, eta_s: null }],
      shard_counts: { pending: 0, running: 1, done: 0, failed: 0 }, shards: [], failures: [], failures_truncated: false, failure_groups: [], throttle: null, slurm: null,
    }) as StatusReport;

  it('measures bytes_done growth between refreshes and restarts after a drop', () => {
    const t = new RateTracker(60_000);
    expect(t.apply(report(0, 0)).rate_source).toBe('completions');
    const r = t.apply(report(10_000, 2_000));
    expect(r).toMatchObject({ rate_source: 'samples', rate_bytes_per_s: 200, eta_s: 40 });
    expect(r.datasets[0]).toMatchObject({ rate_bytes_per_s: 200, eta_s: 40 });
    expect(t.apply(report(20_000, 1_000)).rate_source).toBe('completions');
    // Samples older than the window no longer count.
    t.apply(report(30_000, 2_000));
    expect(t.apply(report(100_000, 9_000)).rate_source).toBe('completions');
  });
});

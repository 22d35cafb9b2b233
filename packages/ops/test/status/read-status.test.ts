import { afterEach, describe, expect, it } from '@jest/globals';
import { claimShard, markFileDone, markFileFailed, setPlanJobIds, setThrottle, StateError } from '@hfhpc/core';
import { formatStatusPrometheus, formatStatusText, readStatus } from '../../src/status/index.js';
import { makeCache, type CacheFixture } from '../verify/cache-fixture.js';

const A = 'bigcode/the-stack-mini';
const B = 'codeparrot/code-mini';
let fx: CacheFixture | undefined;
afterEach(() => fx?.cleanup());

function fixture(): CacheFixture {
  return makeCache({
    files: [
      { repo: A, path: 'a0', content: 'x'.repeat(1000), shard: 0, state: 'pending' },
      { repo: A, path: 'a1', content: 'y'.repeat(3000), shard: 0, state: 'pending' },
      { repo: A, path: 'a2', content: 'z'.repeat(2000), shard: 1, state: 'pending' },
      { repo: B, path: 'b0', content: 'w'.repeat(4000), shard: 2, state: 'pending' },
      { repo: B, path: 'b1', content: 'v'.repeat(500), shard: 2 },
    ],
  });
}

describe('readStatus', () => {
  it('reports the contract fields per dataset and shard, with leases, failures grouped by cause, and the throttle', () => {
    const f = (fx = fixture());
    const t0 = f.clock.t;
    f.clock.t += 60_000;
    const c0 = claimShard(f.store, { planId: f.planId, owner: '4242_0@node1:100', preferIndex: 0, ttlMs: 120_000 })!;
    const c2 = claimShard(f.store, { planId: f.planId, owner: '4242_2@node2:200', preferIndex: 2, ttlMs: 1_000 })!;
    markFileDone(f.store, c0, { fileId: f.fileId(A, 'a0') });
    f.store.db.prepare('UPDATE files SET bytes_done = 1200 WHERE id = ?').run(f.fileId(A, 'a1'));
    markFileFailed(f.store, c2, { fileId: f.fileId(B, 'b0'), error: 'HTTP 403 GatedRepo: access to bigcode/x is restricted (https://hub/datasets/x)' });
    setPlanJobIds(f.store, f.planId, ['4242']);
    setThrottle(f.store, { notBefore: f.clock.t + 30_000, reason: '429 from the Hub', setBy: 'x' });
    f.clock.t += 10_000; // c2's lease has expired, c0's has not

    const r = readStatus({ store: f.store, rateWindowMs: 300_000 });
    expect(r).toMatchObject({
      plan_id: f.planId,
      job_ids: ['4242'],
      state: 'running',
      totals: { files: 5, files_done: 2, files_failed: 1, bytes: 10_500, bytes_done: 1000 + 1200 + 500 },
      shard_counts: { pending: 1, running: 2, done: 0, failed: 0 },
      failures: [{ repo: B, path: 'b0', error: expect.stringContaining('GatedRepo') }],
      throttle: { not_before: new Date(f.clock.t + 20_000).toISOString(), reason: '429 from the Hub' },
      slurm: null,
    });
    expect(r.datasets).toEqual([
      expect.objectContaining({ repo: A, revision: 'main', commit: f.commit(A), files: 3, files_done: 1, files_failed: 0, bytes: 6000, bytes_done: 2200, state: 'running' }),
      expect.objectContaining({ repo: B, files: 2, files_done: 1, files_failed: 1, bytes: 4500, bytes_done: 500, state: 'failed' }),
    ]);
    expect(r.shards[0]).toEqual({
      index: 0, state: 'running', bytes: 4000, bytes_done: 2200, files: 2, files_done: 1, owner: '4242_0@node1:100',
      lease_expires_at: new Date(t0 + 60_000 + 120_000).toISOString(), lease_expired: false, attempts: 1, last_error: null,
    });
    expect(r.shards[1]).toMatchObject({ index: 1, state: 'pending', owner: null, lease_expires_at: null, attempts: 0 });
    expect(r.shards[2]).toMatchObject({ index: 2, owner: '4242_2@node2:200', lease_expired: true });
    expect(r.failure_groups).toEqual([{ cause: 'HTTP N GatedRepo: access to <path> is restricted (<url>)', count: 1, examples: [`${B}: b0`] }]);
    // a0 (1000 bytes) became done in the window, which starts at the first claim (10 s ago).
    expect(r.rate_bytes_per_s).toBeCloseTo(1000 / 10, 5);
    expect(r.eta_s).toBe(Math.round((10_500 - 2700) / 100));

    const text = formatStatusText(r);
    expect(text).toContain(`${A}`);
    expect(text).toMatch(/shards: 1 pending · 2 running · 0 done · 0 failed \(3\)/);
    expect(text).toContain('4242_0@node1:100');
    expect(text).toMatch(/lease EXPIRED .* ago/);
    expect(text).toContain('1 × HTTP N GatedRepo');
    expect(text).toContain('throttle: Hub requests paused until');
    const prom = formatStatusPrometheus(r);
    expect(prom).toContain(`hfhpc_bytes_done{plan="${f.planId}",repo="${A}",revision="main"} 2200`);
    expect(prom).toContain(`hfhpc_shards{plan="${f.planId}",state="running"} 2`);
    expect(prom).toContain(`hfhpc_leases_expired{plan="${f.planId}"} 1`);
    expect(prom).toContain('# TYPE hfhpc_files_failed gauge');
  });

  it('does not count files carried over as done by a re-plan as transfer rate', () => {
    const f = (fx = makeCache({ files: [{ repo: A, path: 'old', content: 'o'.repeat(10_000), shard: 0 }] }));
    f.clock.t += 5_000;
    const r = readStatus({ store: f.store });
    expect(r.state).toBe('done');
    expect(r.rate_bytes_per_s).toBeNull();
    expect(r.eta_s).toBe(0);
    expect(r.datasets[0]?.state).toBe('done');
  });

  it('names a missing plan clearly', () => {
    const f = (fx = fixture());
    expect(() => readStatus({ store: f.store, planId: 99 })).toThrow(StateError);
    expect(() => readStatus({ store: f.store, planId: 99 })).toThrow(/no plan 99/);
  });
});

// runWorker in-process on a real store, with the transport faked (the engine has its own
// HTTP tests; the e2e tests run the real thing): claim order, --no-steal, exit conditions.
import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it } from '@jest/globals';
import { DiskError, InterruptedError, LeaseLostError, WorkFailedError, claimShard, createLogger, listShards } from '@hfhpc/core';
import { runWorker, type RunWorkerParams } from '../src/run-worker.js';
import { watchSignals } from '../src/signals.js';
import type { DownloadRequest } from '../src/download-fn.js';
import { bytes, fakeDownload, planFixture, type FixtureFile, type PlanFixture } from './helpers/plan-fixture.js';

const log = createLogger({ quiet: true });
let fx: PlanFixture | undefined;
afterEach(() => {
  fx?.cleanup();
  fx = undefined;
});

const threeShards = (): FixtureFile[] =>
  [0, 1, 2].flatMap((s) => [0, 1].map((i) => ({ repo: 'bigcode/w', path: `s${s}/f${i}.bin`, content: bytes(1000 * (s + 1) + i), shard: s })));

function params(f: PlanFixture, over: Partial<RunWorkerParams>): RunWorkerParams {
  return { dbPath: f.dbPath, token: null, logger: log, env: {}, leaseTtlSeconds: 60, progressIntervalSeconds: 60, signals: watchSignals({ proc: new EventEmitter() as never }), ...over };
}

describe('runWorker', () => {
  it('claims its own shard first, then steals the rest, largest first', async () => {
    const files = threeShards();
    fx = planFixture(files, { shards: 3 });
    const res = await runWorker(params(fx, { taskId: 1, download: fakeDownload(files) }));
    expect(res.shards.map((s) => [s.index, s.state])).toEqual([[1, 'done'], [2, 'done'], [0, 'done']]);
    expect(res.filesDone).toBe(6);
    expect(listShards(fx.store, fx.planId).every((s) => s.state === 'done' && s.owner === null)).toBe(true);
  });

  it('--no-steal stops after the own shard', async () => {
    const files = threeShards();
    fx = planFixture(files, { shards: 3 });
    const dl = fakeDownload(files);
    const res = await runWorker(params(fx, { taskId: 2, steal: false, download: dl }));
    expect(res.shards).toEqual([{ index: 2, state: 'done' }]);
    expect(dl.calls.every((c) => c.path.startsWith('s2/'))).toBe(true);
    expect(listShards(fx.store, fx.planId).map((s) => s.state)).toEqual(['pending', 'pending', 'done']);
  });

  it('finishes every shard, then fails with WorkFailedError naming the failed files', async () => {
    const files = threeShards();
    fx = planFixture(files, { shards: 3 });
    const dl = fakeDownload(files, (r) => (r.path === 's0/f1.bin' ? new Error('sha256 mismatch after 3 attempts') : undefined));
    const err = await runWorker(params(fx, { taskId: 0, download: dl })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkFailedError);
    expect((err as Error).message).toMatch(/1 file\(s\) failed: bigcode\/w\/s0\/f1\.bin: sha256 mismatch/);
    expect(listShards(fx.store, fx.planId).map((s) => s.state)).toEqual(['failed', 'done', 'done']);
  });

  it('a stop signal aborts the download, releases the lease and rejects with InterruptedError', async () => {
    const files = threeShards();
    fx = planFixture(files, { shards: 3 });
    const proc = new EventEmitter();
    const hang = (req: DownloadRequest) =>
      new Promise<never>((_, reject) => {
        if (req.signal!.aborted) return reject(req.signal!.reason as Error);
        req.signal!.addEventListener('abort', () => reject(req.signal!.reason as Error), { once: true });
        setImmediate(() => proc.emit('SIGTERM'));
      });
    const err = await runWorker(params(fx, { taskId: 0, download: hang, signals: watchSignals({ proc: proc as never }) })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InterruptedError);
    expect(listShards(fx.store, fx.planId).map((s) => [s.state, s.owner])).toEqual([['pending', null], ['pending', null], ['pending', null]]);
  });

  it('a full disk releases the lease and rejects with the DiskError', async () => {
    const files = threeShards();
    fx = planFixture(files, { shards: 3 });
    const enospc = Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    const err = await runWorker(params(fx, { taskId: 0, download: fakeDownload(files, () => enospc) })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DiskError);
    expect(listShards(fx.store, fx.planId)[0]).toMatchObject({ state: 'pending', owner: null });
  });

  it('never resolves (exit 0) with a shard still leased to itself: releases it and rejects with InterruptedError (exit 75)', async () => {
    const files = threeShards();
    fx = planFixture(files, { shards: 3 });
    // A download that claims the lease is lost while the database still says it is ours.
    const liar = () => Promise.reject(new LeaseLostError('lease on shard 0 expired while this task was not running', { hint: 'test' }));
    const err = await runWorker(params(fx, { taskId: 0, steal: false, download: liar })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InterruptedError);
    expect((err as Error).message).toMatch(/shard\(s\) 0 left unfinished; lease\(s\) released/);
    expect(listShards(fx.store, fx.planId)[0]).toMatchObject({ state: 'pending', owner: null });
  });

  it('takes back a shard leased to a process of this host that no longer exists', async () => {
    const files = threeShards();
    fx = planFixture(files, { shards: 3 });
    claimShard(fx.store, { planId: fx.planId, owner: 'local@this-node:999999', preferIndex: 0, ttlMs: 600_000, steal: false });
    const res = await runWorker(params(fx, { taskId: 0, steal: false, host: 'this-node', download: fakeDownload(files) }));
    expect(res.shards).toEqual([{ index: 0, state: 'done' }]);
    expect(listShards(fx.store, fx.planId)[0]).toMatchObject({ state: 'done', owner: null, fence: 4 });
  });

  it('leaves a shard leased to a live process of this host, or to another host, alone', async () => {
    const files = threeShards();
    fx = planFixture(files, { shards: 3 });
    claimShard(fx.store, { planId: fx.planId, owner: `local@this-node:${process.pid}`, preferIndex: 0, ttlMs: 600_000, steal: false });
    claimShard(fx.store, { planId: fx.planId, owner: 'local@other-node:999999', preferIndex: 1, ttlMs: 600_000, steal: false });
    const res = await runWorker(params(fx, { taskId: 0, host: 'this-node', pid: 4242, download: fakeDownload(files) }));
    expect(res.shards).toEqual([{ index: 2, state: 'done' }]);
    expect(listShards(fx.store, fx.planId).map((s) => s.state)).toEqual(['running', 'running', 'done']);
  });

  it('refuses bad option values before touching the database', async () => {
    fx = planFixture(threeShards(), { shards: 3 });
    await expect(runWorker(params(fx, { taskId: 0, leaseTtlSeconds: Number.NaN }))).rejects.toThrow(/--lease-ttl to be a positive number/);
    await expect(runWorker(params(fx, { env: {} }))).rejects.toThrow(/no task id/);
    expect(listShards(fx.store, fx.planId).every((s) => s.attempts === 0)).toBe(true);
  });
});

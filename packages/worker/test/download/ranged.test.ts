// Parallel ranges against fakehub (a real Hub + CDN on loopback, real files): a large blob over
// several ranged connections, under each fault, with exact resume and the fence on every connection.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { open as openFile, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { LeaseLostError } from '@hfhpc/core';
import { startFakeHub, type FakeHub } from '@hfhpc/fakehub';
import { createMemoryGate, downloadBlob, resolveUrl, type DownloadBlobParams, type DownloadFs } from '../../src/index.js';
import { ConnectionBudget } from '../../src/download/connection-budget.js';
import { tempDir } from './serve.js';

const MiB = 1024 * 1024;
const TOKEN = 'hf_rangedEngineTest0123456789';
const FILE = 'data/big.bin';
const SIZE = 24 * MiB + 12345;
/** Four connections at once (every step counts as paying), 2 MiB segments. */
const RANGES = { connections: 4, minBytes: MiB, segmentBytes: 2 * MiB, windowMs: 20, minGain: -1 };

describe('downloadBlob over parallel ranges', () => {
  let hub: FakeHub;
  let tmp: { dir: string; cleanup: () => Promise<void> };
  let run = 0;

  beforeAll(async () => {
    hub = await startFakeHub({
      hashCacheDir: false,
      config: { tokens: [{ token: TOKEN, user: 'alice' }], repos: [{ id: 'org/data', files: [{ path: FILE, size: SIZE, lfs: true }] }] },
    });
    tmp = await tempDir();
  });
  afterAll(async () => {
    await hub.stop();
    await tmp.cleanup();
  });
  beforeEach(() => {
    hub.faults.clear();
    hub.resetRequests();
  });

  async function paramsFor(extra: Partial<DownloadBlobParams> = {}): Promise<DownloadBlobParams> {
    const info = await hub.fileInfo('org/data', FILE);
    const blobs = join(tmp.dir, `run${run++}`, 'blobs');
    return {
      url: resolveUrl({ hubUrl: hub.hubUrl, repo: 'org/data', commit: hub.commitSha('org/data'), path: FILE }),
      hubOrigin: hub.hubUrl,
      token: TOKEN,
      repo: 'org/data',
      path: FILE,
      partialPath: join(blobs, `${info.blob}.p1s0f1-aaaa.incomplete`),
      finalPath: join(blobs, info.blob),
      expected: { size: info.size, sha256: info.lfs!.oid },
      retry: { baseMs: 1, capMs: 10 },
      gate: createMemoryGate(),
      ranges: RANGES,
      ...extra,
    };
  }

  function expectBlob(p: DownloadBlobParams) {
    const bytes = readFileSync(p.finalPath);
    expect(bytes.length).toBe(p.expected.size);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(p.expected.sha256);
    expect(existsSync(p.partialPath)).toBe(false);
  }

  const cdn = () => hub.requests.filter((r) => r.host === 'cdn');
  const resolves = () => hub.requests.filter((r) => r.endpoint === 'resolve').length;

  /** A log that keeps its lines (the connection count changes are logged at debug). */
  function keepLines() {
    const lines: string[] = [];
    const keep = (m: string) => void lines.push(m);
    return { lines, log: { debug: keep, info: keep, warn: keep } };
  }

  it('fetches a multi-segment blob over four connections, byte-exact, with one resolve', async () => {
    const p = await paramsFor();
    const { lines, log } = keepLines();
    const result = await downloadBlob({ ...p, log });
    expectBlob(p);
    expect(lines).toContain(`${FILE}: 4 connections`);
    expect(resolves()).toBe(1);
    const ranges = cdn().map((r) => r.range);
    expect(ranges.every((r) => /^bytes=\d+-\d+$/.test(r ?? ''))).toBe(true);
    expect(new Set(ranges).size).toBe(ranges.length);
    expect(ranges.length).toBe(Math.ceil(SIZE / (2 * MiB)));
    expect(result).toMatchObject({ bytesFetched: SIZE, resumedFrom: 0, skipped: false, sha256: p.expected.sha256 });
    expect(cdn().every((r) => !r.authorization)).toBe(true);
  });

  it("shares the task's connection budget: two blobs at once never hold more than it, and give every connection back", async () => {
    class Watched extends ConnectionBudget {
      most = 0;
      refused = 0;
      override hold(): void {
        super.hold();
        this.most = Math.max(this.most, this.inUse);
      }
      override tryTake(): boolean {
        const ok = super.tryTake();
        if (ok) this.most = Math.max(this.most, this.inUse);
        else this.refused++;
        return ok;
      }
    }
    const budget = new Watched(3);
    const one = async () => {
      const p = await paramsFor({ ranges: { ...RANGES, budget } });
      budget.hold();
      try {
        await downloadBlob(p);
      } finally {
        budget.give();
      }
      expectBlob(p);
    };
    await Promise.all([one(), one()]);
    // Each blob wanted 4 connections (8 in all); the budget of 3 let one extra run at a time.
    expect(budget.most).toBe(3);
    expect(budget.refused).toBeGreaterThan(0);
    expect(budget.inUse).toBe(0);
  });

  it('a dropped connection retries its segment from where it got; the others go on', async () => {
    const p = await paramsFor();
    hub.faults.dropConnection({ host: 'cdn', afterBytes: MiB + 7, count: 1, skip: 2 });
    const result = await downloadBlob(p);
    expectBlob(p);
    expect(hub.requests.some((r) => r.faults.includes('drop-connection'))).toBe(true);
    // The retry asks for the rest of that segment only: nothing fetched twice.
    expect(result.bytesFetched).toBe(SIZE);
    expect(cdn().length).toBe(Math.ceil(SIZE / (2 * MiB)) + 1);
    expect(resolves()).toBe(1);
  });

  it('a server that ignores Range: one connection for the blob, from the prefix on disk', async () => {
    const p = await paramsFor();
    hub.faults.ignoreRange({ host: 'cdn', skip: 3 });
    const result = await downloadBlob(p);
    expectBlob(p);
    const last = cdn().at(-1)!;
    expect(last.status).toBe(200);
    expect(result.attempts).toBeGreaterThan(1);
  });

  it('a corrupt byte in one range fails the hash: fetched again from 0, then published', async () => {
    const p = await paramsFor();
    hub.faults.corruptBytes({ host: 'cdn', offset: 9 * MiB + 3, count: 1 });
    const result = await downloadBlob(p);
    expectBlob(p);
    expect(hub.requests.filter((r) => r.faults.includes('corrupt-bytes'))).toHaveLength(1);
    expect(result.bytesFetched).toBe(2 * SIZE);
    expect(result.resumedFrom).toBe(0);
  });

  it('an expired CDN URL mid-file: one fresh resolve, shared by every connection', async () => {
    const p = await paramsFor();
    hub.faults.expireCdnUrls({ host: 'cdn', skip: 4, count: 1 });
    const result = await downloadBlob(p);
    expectBlob(p);
    expect(cdn().filter((r) => r.status === 403)).toHaveLength(1);
    expect(resolves()).toBe(2);
    expect(result.bytesFetched).toBe(SIZE);
  });

  it('an interrupted download resumes exactly: every landed byte of every segment is kept', async () => {
    const p = await paramsFor();
    hub.faults.bandwidth({ host: 'cdn', bytesPerSecond: 4 * MiB });
    const stop = new AbortController();
    let seen = 0;
    const first = downloadBlob({ ...p, signal: stop.signal, progressIntervalMs: 10, onProgress: (n) => (seen = n) > SIZE / 3 && stop.abort() });
    await expect(first).rejects.toThrow();
    expect(existsSync(p.finalPath)).toBe(false);
    const blobs = dirname(p.partialPath);
    const left = (await readdir(blobs)).map((n) => join(blobs, n));
    expect(left.some((n) => n.endsWith('.ranges.incomplete'))).toBe(true);
    const before = hub.requests.filter((r) => r.host === 'cdn').reduce((s, r) => s + r.bytesSent, 0);
    hub.faults.clear();
    hub.resetRequests();
    const mine = p.partialPath.replace('f1-aaaa', 'f2-bbbb');
    const second = await downloadBlob({ ...p, partialPath: mine, resumeFrom: left });
    expectBlob({ ...p, partialPath: mine });
    expect(second.resumedFrom).toBeGreaterThanOrEqual(seen);
    // Exact: the bytes fetched again are only those the first run never counted as landed.
    expect(second.resumedFrom + second.bytesFetched).toBe(SIZE);
    expect(before).toBeGreaterThanOrEqual(second.resumedFrom);
    expect(await readdir(blobs)).toEqual([p.expected.sha256]);
  });

  it('the lease lost mid-file: no connection writes after the deadline, nothing is published', async () => {
    let clock = Date.now();
    const deadline = { at: Number.MAX_SAFE_INTEGER };
    let afterDeadline = 0;
    let confirms = 0;
    const nodeFs = await import('node:fs/promises');
    const counting: DownloadFs = {
      ...nodeFs,
      open: (async (...args: Parameters<typeof openFile>) => {
        const handle = await openFile(...args);
        const count =
          <F extends (...a: never[]) => unknown>(f: F) =>
          (...a: Parameters<F>) => {
            if (clock >= deadline.at) afterDeadline++;
            return (f as (...x: unknown[]) => unknown).apply(handle, a);
          };
        return new Proxy(handle, {
          get(target, prop, receiver) {
            if (prop === 'write' || prop === 'writev' || prop === 'truncate') return count((target as never)[prop]);
            const v = Reflect.get(target, prop, receiver) as unknown;
            return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
          },
        });
      }) as DownloadFs['open'],
    };
    const p = await paramsFor({ fs: counting, now: () => clock, progressIntervalMs: 5 });
    hub.faults.bandwidth({ host: 'cdn', bytesPerSecond: 8 * MiB });
    const lease = {
      writableUntil: () => deadline.at,
      confirm: async () => {
        confirms++;
        throw new LeaseLostError('lease on shard 0 lost', { context: {} });
      },
      beforePublish: async () => undefined,
    };
    const run = downloadBlob({
      ...p,
      lease,
      onProgress: (n) => {
        if (n > SIZE / 4 && deadline.at === Number.MAX_SAFE_INTEGER) {
          deadline.at = clock + 1;
          clock += 2;
        }
      },
    });
    await expect(run).rejects.toBeInstanceOf(LeaseLostError);
    expect(deadline.at).not.toBe(Number.MAX_SAFE_INTEGER);
    expect(afterDeadline).toBe(0);
    expect(confirms).toBeGreaterThanOrEqual(1);
    expect(existsSync(p.finalPath)).toBe(false);
  });
});

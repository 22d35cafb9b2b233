// The engine against fakehub (a real Hub + CDN pair on loopback): every fault knob of a
// transfer alone, then all of them at once.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AuthError } from '@hfhpc/core';
import { startFakeHub, type FakeHub, type FaultHandle } from '@hfhpc/fakehub';
import { createMemoryGate, downloadBlob, resolveUrl, type DownloadBlobParams } from '../../src/index.js';
import { tempDir } from './serve.js';

const TOKEN = 'hf_fakehubEngineTest0123456789';
const OTHER = 'hf_notOnTheGatedList0123456789';
const BIG = 'data/train-00000.parquet';
const LARGE = 'data/train-00001.parquet';

/** A real gate whose waits pass on a virtual clock: the pause is recorded, not slept. */
function virtualGate() {
  let clock = Date.now();
  return createMemoryGate({ now: () => clock, sleep: async (ms) => void (clock += ms) });
}

describe('downloadBlob against fakehub', () => {
  let hub: FakeHub;
  let tmp: { dir: string; cleanup: () => Promise<void> };
  let run = 0;

  beforeAll(async () => {
    hub = await startFakeHub({
      hashCacheDir: false,
      config: {
        tokens: [
          { token: TOKEN, user: 'alice', canAccessGated: ['org/gated'] },
          { token: OTHER, user: 'bob' },
        ],
        repos: [
          {
            id: 'org/data',
            renamed_from: 'old-org/data',
            files: [
              { path: BIG, size: 6 * 1024 * 1024, lfs: true },
              { path: LARGE, size: 128 * 1024 * 1024, lfs: true },
              { path: 'README.md', text: '# Data\n'.repeat(500) },
              { path: 'dir with space/ü+#%.json', size: 3000, lfs: false },
              { path: 'empty.txt', text: '' },
            ],
          },
          { id: 'org/gated', gated: 'manual', files: [{ path: 'x.bin', size: 1000, lfs: true }] },
        ],
      },
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

  /** Params for one file into a fresh cache folder, so every test downloads for real. */
  async function paramsFor(repo: string, path: string, extra: Partial<DownloadBlobParams> = {}): Promise<DownloadBlobParams> {
    const info = await hub.fileInfo(repo, path);
    const blobs = join(tmp.dir, `run${run++}`, 'blobs');
    return {
      url: resolveUrl({ hubUrl: hub.hubUrl, repo, commit: hub.commitSha(repo), path }),
      hubOrigin: hub.hubUrl,
      token: TOKEN,
      repo,
      path,
      revision: hub.commitSha(repo),
      partialPath: join(blobs, `${info.blob}.incomplete`),
      finalPath: join(blobs, info.blob),
      expected: { size: info.size, ...(info.lfs ? { sha256: info.lfs.oid } : { gitSha1: info.oid }) },
      retry: { baseMs: 1, capMs: 10 },
      gate: virtualGate(),
      sleep: async () => {},
      ...extra,
    };
  }

  function expectBlob(p: DownloadBlobParams) {
    const bytes = readFileSync(p.finalPath);
    expect(bytes.length).toBe(p.expected.size);
    const hex = p.expected.sha256
      ? createHash('sha256').update(bytes).digest('hex')
      : createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
    expect(hex).toBe(p.expected.sha256 ?? p.expected.gitSha1);
    expect(existsSync(p.partialPath)).toBe(false);
  }

  function expectNoTokenOnCdn() {
    const cdn = hub.requests.filter((r) => r.host === 'cdn');
    expect(cdn.length).toBeGreaterThan(0);
    expect(cdn.every((r) => !r.authorization)).toBe(true);
  }

  it('downloads every kind of file: LFS via the CDN, git files (odd paths, compressible), empty', async () => {
    for (const path of [BIG, 'README.md', 'dir with space/ü+#%.json', 'empty.txt']) {
      const p = await paramsFor('org/data', path);
      await downloadBlob(p);
      expectBlob(p);
    }
    expectNoTokenOnCdn();
    expect(hub.requests.filter((r) => r.host === 'hub').every((r) => r.authorization)).toBe(true);
    // The empty file cost no request.
    expect(hub.requests.some((r) => r.filePath === 'empty.txt')).toBe(false);
  });

  it('follows the renamed repo 307 with the token', async () => {
    const p = await paramsFor('org/data', 'README.md');
    await downloadBlob({ ...p, url: p.url.replace('/datasets/org/', '/datasets/old-org/') });
    expectBlob(p);
    expect(hub.requests.filter((r) => r.endpoint === 'resolve').map((r) => [r.status, r.authorization])).toEqual([
      [307, true],
      [200, true],
    ]);
  });

  it('resumes a dropped CDN connection: the server re-sends < 5 % of the file, the client writes no byte twice', async () => {
    // The one-connection path (parallel ranges have their own tests in ranged.test.ts).
    const p = await paramsFor('org/data', LARGE, { ranges: { connections: 1 } });
    const cut = 64 * 1024 * 1024;
    hub.faults.dropConnection({ host: 'cdn', afterBytes: cut, count: 1 });
    const result = await downloadBlob(p);
    expectBlob(p);
    const cdn = hub.requests.filter((r) => r.host === 'cdn');
    expect(cdn.map((r) => r.status)).toEqual([200, 206]);
    const resumedAt = Number(/^bytes=(\d+)-$/.exec(cdn[1]!.range ?? '')?.[1]);
    expect(resumedAt).toBeGreaterThan(0);
    // Bytes the server sent twice: what it had handed to the socket beyond the resume point.
    expect((cut - resumedAt) / p.expected.size).toBeLessThan(0.05);
    expect(result.bytesFetched).toBe(p.expected.size);
    expect(result.attempts).toBe(2);
  });

  const knobs: Array<[string, (h: FakeHub) => FaultHandle[]]> = [
    ['429 (Retry-After seconds)', (h) => [h.faults.rateLimit({ endpoint: 'resolve', count: 1, retryAfterSeconds: 2 })]],
    ['429 (HTTP-date)', (h) => [h.faults.rateLimit({ endpoint: 'resolve', count: 1, retryAfterSeconds: 2, retryAfterFormat: 'http-date' })]],
    ['503 burst', (h) => [h.faults.serverError({ count: 3 })]],
    ['corrupt bytes', (h) => [h.faults.corruptBytes({ host: 'cdn', offset: 12345 })]],
    ['Range ignored', (h) => [h.faults.dropConnection({ host: 'cdn', afterBytes: 1024 * 1024, count: 1 }), h.faults.ignoreRange({ host: 'cdn', count: 1 })]],
    ['expired CDN URL', (h) => [h.faults.expireCdnUrls({ count: 1 })]],
    ['slow first byte', (h) => [h.faults.slowFirstByte({ host: 'cdn', delayMs: 400, count: 1 })]],
    ['bandwidth cap', (h) => [h.faults.bandwidth({ host: 'cdn', bytesPerSecond: 64 * 1024 * 1024 })]],
  ];
  it.each(knobs)('survives %s', async (name, arm) => {
    const gate = virtualGate();
    const p = await paramsFor('org/data', BIG, { timeouts: { firstByteMs: 200 }, gate });
    const handles = arm(hub);
    const result = await downloadBlob(p);
    expectBlob(p);
    expectNoTokenOnCdn();
    for (const h of handles) expect(h.hits).toBeGreaterThan(0);
    if (name.startsWith('429')) expect(gate.reason).toBe('429 from the hub for org/data');
    if (name !== 'bandwidth cap') expect(result.attempts).toBeGreaterThan(1);
  });

  it('survives every fault at once', async () => {
    const p = await paramsFor('org/data', BIG, { timeouts: { firstByteMs: 200 }, retry: { baseMs: 1, capMs: 10, maxAttempts: 12 } });
    hub.faults.rateLimit({ endpoint: 'resolve', count: 1, retryAfterSeconds: 1 });
    hub.faults.serverError({ host: 'hub', count: 2 });
    hub.faults.dropConnection({ host: 'cdn', afterBytes: 1024 * 1024, count: 2 });
    hub.faults.corruptBytes({ host: 'cdn', offset: 4 * 1024 * 1024 });
    hub.faults.ignoreRange({ host: 'cdn', count: 1 });
    hub.faults.expireCdnUrls({ count: 1, skip: 1 });
    hub.faults.slowFirstByte({ host: 'cdn', delayMs: 400, count: 1, skip: 2 });
    hub.faults.bandwidth({ host: 'cdn', bytesPerSecond: 64 * 1024 * 1024 });
    const gate = virtualGate();

    await downloadBlob({ ...p, gate });

    expectBlob(p);
    expectNoTokenOnCdn();
    expect(gate.notBefore).toBeGreaterThan(0); // the 429 paused the gate
  });

  it('gated repo: no token → log in; a token not on the list → request access; no retry', async () => {
    const anon = await paramsFor('org/gated', 'x.bin', { token: undefined });
    await expect(downloadBlob(anon)).rejects.toThrow(new AuthError('org/gated is a gated dataset: log in to download it'));
    const other = await paramsFor('org/gated', 'x.bin', { token: OTHER });
    const err = await downloadBlob(other).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthError);
    expect((err as AuthError).hint).toContain(`${hub.hubUrl}/datasets/org/gated`);
    expect(hub.requests.filter((r) => r.endpoint === 'resolve')).toHaveLength(2);
    const ok = await paramsFor('org/gated', 'x.bin');
    await downloadBlob(ok);
    expectBlob(ok);
  });
});

// One test per fault knob: each fires where and as often as asked, then stops.
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { datasetInfo, listFiles } from '@huggingface/hub';
import type { FakeHub } from '../src/index.js';
import { raw, startTestHub } from './helpers.js';

let hub: FakeHub;
let clock = Date.parse('2030-01-01T00:00:00Z');
beforeAll(async () => {
  hub = await startTestHub({ now: () => clock });
});
afterAll(() => hub.stop());
afterEach(() => hub.faults.clear());

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const info = () => `${hub.hubUrl}/api/datasets/bigcode/demo`;
const small = () => `${hub.hubUrl}/datasets/bigcode/demo/resolve/main/data/small.bin`;
async function cdnUrl(path = 'data/python/a.parquet'): Promise<string> {
  const r = await raw(`${hub.hubUrl}/datasets/bigcode/demo/resolve/main/${path}`);
  expect(r.status).toBe(302);
  return String(r.headers.location);
}

describe('rate limiting (429)', () => {
  it('answers the first K matching requests with 429, Retry-After seconds and RateLimit r=0;t=N', async () => {
    const f = hub.faults.rateLimit({ endpoint: 'resolve', count: 2, retryAfterSeconds: 7 });
    for (let i = 0; i < 2; i++) {
      const a = await raw(small());
      expect(a.status).toBe(429);
      expect(a.headers['retry-after']).toBe('7');
      expect(a.headers.ratelimit).toBe('"resolvers";r=0;t=7');
    }
    expect((await raw(small())).status).toBe(200);
    expect((await raw(info())).status).toBe(200); // other endpoints untouched
    expect([f.hits, f.remaining]).toEqual([2, 0]);
  });

  it('can send Retry-After as an HTTP-date', async () => {
    hub.faults.rateLimit({ count: 1, retryAfterSeconds: 30, retryAfterFormat: 'http-date' });
    const a = await raw(info());
    expect(a.status).toBe(429);
    expect(Date.parse(String(a.headers['retry-after']))).toBe(clock + 30_000);
  });

  it('a global window: every request gets 429 until it ends, with the time left', async () => {
    hub.faults.rateLimit({ forSeconds: 60 });
    expect((await raw(info())).status).toBe(429);
    clock += 45_000;
    const later = await raw(small());
    expect(later.status).toBe(429);
    expect(later.headers['retry-after']).toBe('15');
    clock += 15_000;
    expect((await raw(info())).status).toBe(200);
  });

  it('matches a single path, and can let the first requests through', async () => {
    hub.faults.rateLimit({ path: 'data/small.bin', skip: 1, count: 1 });
    expect((await raw(small())).status).toBe(200);
    expect((await raw(`${hub.hubUrl}/datasets/bigcode/demo/resolve/main/README.md`)).status).toBe(200);
    expect((await raw(small())).status).toBe(429);
    expect((await raw(small())).status).toBe(200);
  });
});

it('503 bursts: K answers 503, then normal service', async () => {
  const f = hub.faults.serverError({ count: 3, retryAfterSeconds: 2 });
  const statuses = [];
  for (let i = 0; i < 4; i++) statuses.push((await raw(info())).status);
  expect(statuses).toEqual([503, 503, 503, 200]);
  expect(f.hits).toBe(3);
  expect(hub.requests.filter((r) => r.faults.includes('server-error'))).toHaveLength(3);
});

it('drops the connection after K body bytes (full Content-Length announced), once', async () => {
  const url = await cdnUrl();
  hub.faults.dropConnection({ host: 'cdn', afterBytes: 100_000, count: 1 });
  const cut = await raw(url);
  expect(cut.headers['content-length']).toBe('300000');
  expect(cut.cut).toBe(true);
  expect(cut.body.length).toBe(100_000);
  expect(cut.body.equals(hub.readFile('bigcode/demo', 'data/python/a.parquet', { end: 100_000 }))).toBe(true);
  // The client resumes with Range and gets the rest.
  const rest = await raw(url, { headers: { Range: 'bytes=100000-' } });
  expect(sha256(Buffer.concat([cut.body, rest.body]))).toBe(hub.fileInfoSync('bigcode/demo', 'data/python/a.parquet').lfs?.oid);
});

it('corrupts one byte once: right length, wrong hash; the retry is clean', async () => {
  const url = await cdnUrl();
  const want = hub.fileInfoSync('bigcode/demo', 'data/python/a.parquet').lfs?.oid;
  hub.faults.corruptBytes({ host: 'cdn', offset: 12_345 });
  const bad = await raw(url);
  expect(bad.body.length).toBe(300_000);
  expect(sha256(bad.body)).not.toBe(want);
  const good = hub.readFile('bigcode/demo', 'data/python/a.parquet');
  expect(bad.body[12_345]).toBe(good[12_345] ^ 0xff);
  expect(sha256((await raw(url)).body)).toBe(want);
});

it('caps bandwidth: the body arrives in paced slices, intact', async () => {
  const url = await cdnUrl('data/python/b.parquet');
  hub.faults.bandwidth({ host: 'cdn', bytesPerSecond: 20_000 }); // 1 KiB slices every ~50 ms
  const a = await raw(url);
  expect(a.body.equals(hub.readFile('bigcode/demo', 'data/python/b.parquet'))).toBe(true);
  expect(a.chunks).toBeGreaterThanOrEqual(2);
  expect(hub.requests.at(-1)?.faults).toEqual(['bandwidth']);
});

it('delays the first byte: a client with a short timeout gives up, the next request is prompt', async () => {
  hub.faults.slowFirstByte({ endpoint: 'repo-info', delayMs: 1500, count: 1 });
  await expect(fetch(info(), { signal: AbortSignal.timeout(150) })).rejects.toThrow();
  expect((await fetch(info(), { signal: AbortSignal.timeout(5000) })).status).toBe(200);
});

it('ignores Range: 200 with the whole body instead of 206', async () => {
  const url = await cdnUrl();
  hub.faults.ignoreRange({ count: 1 });
  const a = await raw(url, { headers: { Range: 'bytes=10-19' } });
  expect(a.status).toBe(200);
  expect(a.body.length).toBe(300_000);
  expect((await raw(url, { headers: { Range: 'bytes=10-19' } })).status).toBe(206);
});

it('expires CDN URLs: 403 from the CDN, a fresh resolve works', async () => {
  const url = await cdnUrl();
  hub.faults.expireCdnUrls({ count: 1 });
  const a = await raw(url);
  expect(a.status).toBe(403);
  expect(a.body.toString()).toContain('Request has expired');
  expect((await raw(await cdnUrl())).status).toBe(200);
});

it('adds a hostile path to tree listings until cleared', async () => {
  const list = async () => {
    const out: string[] = [];
    for await (const e of listFiles({ repo: { type: 'dataset', name: 'bigcode/demo' }, recursive: true, hubUrl: hub.hubUrl })) out.push(e.path);
    return out;
  };
  const f = hub.faults.hostileTreeEntry({ repo: 'bigcode/demo' });
  hub.faults.hostileTreeEntry({ repo: 'bigcode/demo', path: '/abs/olute' });
  expect(await list()).toEqual(expect.arrayContaining(['../../etc/passwd', '/abs/olute']));
  f.clear();
  const after = await list();
  expect(after).not.toContain('../../etc/passwd');
  expect(after).toContain('/abs/olute');
});

it('moves the branch to a new commit after the Kth matching request; the old sha still lists the old tree', async () => {
  const before = hub.commitSha('bigcode/demo');
  hub.faults.moveBranch({ repo: 'bigcode/demo', endpoint: 'repo-info', afterRequests: 1, commit: { files: [{ path: 'new.txt', text: 'new' }] } });
  const pinned = await datasetInfo({ name: 'bigcode/demo', hubUrl: hub.hubUrl, additionalFields: ['sha'] });
  expect(pinned.sha).toBe(before);
  const moved = hub.commitSha('bigcode/demo');
  expect(moved).not.toBe(before);
  const atBranch = JSON.parse((await raw(`${hub.hubUrl}/api/datasets/bigcode/demo/tree/main`)).body.toString());
  const atSha = JSON.parse((await raw(`${hub.hubUrl}/api/datasets/bigcode/demo/tree/${before}`)).body.toString());
  expect(atBranch.map((e: { path: string }) => e.path)).toContain('new.txt');
  expect(atSha.map((e: { path: string }) => e.path)).not.toContain('new.txt');
  // And directly, from a test.
  const third = hub.moveBranch('bigcode/demo', 'main', { delete: ['new.txt'] });
  expect(hub.commitSha('bigcode/demo')).toBe(third);
  expect(hub.files('bigcode/demo')).not.toContain('new.txt');
});

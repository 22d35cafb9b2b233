// The Hub and CDN endpoints on the wire: headers, ranges, gzip, redirects, errors, paging.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import type { FakeHub } from '../src/index.js';
import { ALICE, BOB, raw, startTestHub } from './helpers.js';

let hub: FakeHub;
beforeAll(async () => {
  hub = await startTestHub({ pageSize: 5 });
});
afterAll(() => hub.stop());

const resolveUrl = (repo: string, path: string, rev = 'main') =>
  `${hub.hubUrl}/datasets/${repo}/resolve/${encodeURIComponent(rev)}/${path.split('/').map(encodeURIComponent).join('/')}`;

describe('resolve, git files', () => {
  it('answers bytes with ETag = git blob sha1, X-Repo-Commit and Content-Length', async () => {
    const a = await raw(resolveUrl('bigcode/demo', 'data/small.bin'));
    const info = hub.fileInfoSync('bigcode/demo', 'data/small.bin');
    expect(a.status).toBe(200);
    expect(a.headers.etag).toBe(`"${info.oid}"`);
    expect(a.headers['x-repo-commit']).toBe(hub.commitSha('bigcode/demo'));
    expect(a.headers['content-length']).toBe('5000');
    const gitSha1 = createHash('sha1').update(`blob ${a.body.length}\0`).update(a.body).digest('hex');
    expect(gitSha1).toBe(info.oid);
    expect(a.headers.ratelimit).toMatch(/^"resolvers";r=\d+;t=\d+$/);
    expect(a.headers['ratelimit-policy']).toBe('"fixed window";"resolvers";q=3000;w=300');
  });

  it('serves ranges: 206 with Content-Range, suffix ranges, 416 past the end, 200 for several ranges', async () => {
    const whole = hub.readFile('bigcode/demo', 'data/small.bin');
    const mid = await raw(resolveUrl('bigcode/demo', 'data/small.bin'), { headers: { Range: 'bytes=1000-1999' } });
    expect(mid.status).toBe(206);
    expect(mid.headers['content-range']).toBe('bytes 1000-1999/5000');
    expect(mid.body.equals(whole.subarray(1000, 2000))).toBe(true);
    const open = await raw(resolveUrl('bigcode/demo', 'data/small.bin'), { headers: { Range: 'bytes=4990-' } });
    expect(open.body.equals(whole.subarray(4990))).toBe(true);
    const suffix = await raw(resolveUrl('bigcode/demo', 'data/small.bin'), { headers: { Range: 'bytes=-10' } });
    expect(suffix.headers['content-range']).toBe('bytes 4990-4999/5000');
    const past = await raw(resolveUrl('bigcode/demo', 'data/small.bin'), { headers: { Range: 'bytes=5000-' } });
    expect(past.status).toBe(416);
    expect(past.headers['content-range']).toBe('bytes */5000');
    const multi = await raw(resolveUrl('bigcode/demo', 'data/small.bin'), { headers: { Range: 'bytes=0-1,5-6' } });
    expect(multi.status).toBe(200);
    expect(multi.body.length).toBe(5000);
  });

  it('gzips text when allowed: chunked, weak ETag, decoded bytes are the file', async () => {
    const a = await raw(resolveUrl('bigcode/demo', 'README.md'), { headers: { 'Accept-Encoding': 'gzip' } });
    const info = hub.fileInfoSync('bigcode/demo', 'README.md');
    expect(a.headers['content-encoding']).toBe('gzip');
    expect(a.headers['content-length']).toBeUndefined();
    expect(a.headers.etag).toBe(`W/"${info.oid}"`);
    expect(gunzipSync(a.body).toString()).toBe('# demo\n\nHello from fakehub.\n');
    const identity = await raw(resolveUrl('bigcode/demo', 'README.md'), { headers: { 'Accept-Encoding': 'identity' } });
    expect(identity.headers['content-encoding']).toBeUndefined();
    expect(identity.headers['content-length']).toBe(String(info.size));
  });

  it('HEAD gives the headers without a body; a zero-length file has the empty blob sha1 and no satisfiable range', async () => {
    const head = await raw(resolveUrl('bigcode/demo', 'data/small.bin'), { method: 'HEAD' });
    expect(head.headers['content-length']).toBe('5000');
    expect(head.body.length).toBe(0);
    const empty = await raw(resolveUrl('bigcode/demo', 'data/empty.txt'), { headers: { 'Accept-Encoding': 'identity' } });
    expect(empty.status).toBe(200);
    expect(empty.headers.etag).toBe('"e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"');
    expect((await raw(resolveUrl('bigcode/demo', 'data/empty.txt'), { headers: { Range: 'bytes=0-0' } })).status).toBe(416);
  });

  it('percent-decodes paths with #, ?, +, % and resolves by commit sha', async () => {
    const sha = hub.commitSha('bigcode/demo');
    const a = await raw(resolveUrl('bigcode/demo', 'weird/a#b?c+d%e.txt', sha), { headers: { 'Accept-Encoding': 'identity' } });
    expect(a.status).toBe(200);
    expect(a.body.toString()).toBe('weird');
  });
});

describe('resolve, LFS files and the CDN', () => {
  it('redirects with X-Linked-Etag / X-Linked-Size to a signed CDN URL that serves ranges without a token', async () => {
    const info = hub.fileInfoSync('bigcode/demo', 'data/python/a.parquet');
    const r = await raw(resolveUrl('bigcode/demo', 'data/python/a.parquet'), { headers: { Authorization: `Bearer ${ALICE}` } });
    expect(r.status).toBe(302);
    expect(r.headers['x-linked-etag']).toBe(`"${info.lfs?.oid}"`);
    expect(r.headers['x-linked-size']).toBe('300000');
    expect(r.headers['x-repo-commit']).toBe(hub.commitSha('bigcode/demo'));
    const location = String(r.headers.location);
    expect(location.startsWith(`${hub.cdnUrl}/`)).toBe(true);
    expect(location).toMatch(/[?&]Expires=\d+/);
    hub.resetRequests();
    const part = await raw(location, { headers: { Range: 'bytes=299990-' } });
    expect(part.status).toBe(206);
    expect(part.body.equals(hub.readFile('bigcode/demo', 'data/python/a.parquet', { start: 299990 }))).toBe(true);
    expect(part.headers.etag).not.toContain(String(info.lfs?.oid));
    await raw(location, { method: 'HEAD', headers: { Authorization: 'Bearer leaked' } });
    expect(hub.requests.map((q) => [q.host, q.authorization, q.filePath])).toEqual([
      ['cdn', false, 'data/python/a.parquet'],
      ['cdn', true, 'data/python/a.parquet'],
    ]);
  });

  it('answers 403 to an expired or tampered URL', async () => {
    let now = Date.parse('2030-01-01T00:00:00Z');
    const timed = await startTestHub({ now: () => now, cdnUrlTtlSeconds: 60 });
    try {
      const r = await raw(`${timed.hubUrl}/datasets/bigcode/demo/resolve/main/data/python/b.parquet`);
      const location = String(r.headers.location);
      expect((await raw(location)).status).toBe(200);
      expect((await raw(location.replace(/Signature=[^&]+/, 'Signature=AAAA'))).status).toBe(403);
      now += 61_000;
      const expired = await raw(location);
      expect(expired.status).toBe(403);
      expect(expired.body.toString()).toContain('Request has expired');
    } finally {
      await timed.stop();
    }
  });

  it('raw/ gives the LFS pointer file', async () => {
    const info = hub.fileInfoSync('bigcode/demo', 'data/python/a.parquet');
    const a = await raw(`${hub.hubUrl}/datasets/bigcode/demo/raw/main/data/python/a.parquet`, { headers: { 'Accept-Encoding': 'identity' } });
    expect(a.body.toString()).toBe(`version https://git-lfs.github.com/spec/v1\noid sha256:${info.lfs?.oid}\nsize 300000\n`);
    expect(a.body.length).toBe(info.lfs?.pointerSize);
    expect(a.headers.etag).toBe(`"${info.oid}"`);
  });
});

describe('errors', () => {
  const code = (a: { headers: Record<string, unknown> }) => a.headers['x-error-code'];

  it('names RepoNotFound, RevisionNotFound and EntryNotFound as the Hub does', async () => {
    const anon = await raw(`${hub.hubUrl}/api/datasets/nobody/nothing`);
    expect([anon.status, code(anon)]).toEqual([401, 'RepoNotFound']);
    const withToken = await raw(`${hub.hubUrl}/api/datasets/nobody/nothing`, { headers: { Authorization: `Bearer ${BOB}` } });
    expect([withToken.status, code(withToken)]).toEqual([404, 'RepoNotFound']);
    const rev = await raw(`${hub.hubUrl}/api/datasets/bigcode/demo/revision/nope`);
    expect([rev.status, code(rev), rev.headers['x-error-message']]).toEqual([404, 'RevisionNotFound', 'Invalid rev id: nope']);
    expect(JSON.parse(rev.body.toString())).toEqual({ error: 'Invalid rev id: nope' });
    const entry = await raw(resolveUrl('bigcode/demo', 'missing.bin'));
    expect([entry.status, code(entry)]).toEqual([404, 'EntryNotFound']);
    expect(entry.headers['x-repo-commit']).toBe(hub.commitSha('bigcode/demo'));
    const odd = await raw(resolveUrl('bigcode/demo', 'no/文件\n😀.bin'));
    expect([odd.status, code(odd)]).toEqual([404, 'EntryNotFound']);
    expect(JSON.parse(odd.body.toString()).error).toBe('Entry not found: no/文件\n😀.bin');
    const folder = await raw(`${hub.hubUrl}/api/datasets/bigcode/demo/tree/main/no/such/dir`);
    expect([folder.status, code(folder)]).toEqual([404, 'EntryNotFound']);
  });

  it('rejects an unknown token everywhere with "Invalid credentials", gated files with GatedRepo', async () => {
    const bad = await raw(`${hub.hubUrl}/api/datasets/bigcode/demo`, { headers: { Authorization: 'Bearer hf_unknown' } });
    expect([bad.status, bad.headers['x-error-message']]).toEqual([401, 'Invalid credentials in Authorization header']);
    const anon = await raw(resolveUrl('bigcode/gated', 'x.bin'));
    expect([anon.status, code(anon)]).toEqual([401, 'GatedRepo']);
    const bob = await raw(resolveUrl('bigcode/gated', 'x.bin'), { headers: { Authorization: `Bearer ${BOB}` } });
    expect([bob.status, code(bob)]).toEqual([403, 'GatedRepo']);
    // Listing a gated repo is open to anyone.
    expect((await raw(`${hub.hubUrl}/api/datasets/bigcode/gated/tree/main`)).status).toBe(200);
  });
});

describe('renamed repos', () => {
  it('answers the old name with a relative 307 to the same path; fetch follows it keeping the token', async () => {
    const r = await raw(`${hub.hubUrl}/api/datasets/bigcode/old-demo/tree/main?recursive=true`);
    expect(r.status).toBe(307);
    expect(r.headers.location).toBe('/api/datasets/bigcode/demo/tree/main?recursive=true');
    hub.resetRequests();
    const res = await fetch(`${hub.hubUrl}/datasets/bigcode/old-demo/resolve/main/data/small.bin`, { headers: { Authorization: `Bearer ${ALICE}` } });
    expect(Buffer.from(await res.arrayBuffer()).equals(hub.readFile('bigcode/demo', 'data/small.bin'))).toBe(true);
    expect(hub.requests.map((q) => [q.status, q.authorization])).toEqual([
      [307, true],
      [200, true],
    ]);
  });
});

describe('listing details', () => {
  it('pages with an absolute Link rel="next" carrying every query parameter and an opaque cursor', async () => {
    const first = await raw(`${hub.hubUrl}/api/datasets/bigcode/demo/tree/main?recursive=true&expand=false`);
    const link = String(first.headers.link);
    const m = /^<(http:\/\/[^>]+)>; rel="next"$/.exec(link);
    expect(m).not.toBeNull();
    const next = new URL(m![1]);
    expect(next.searchParams.get('recursive')).toBe('true');
    expect(next.searchParams.get('expand')).toBe('false');
    expect(next.searchParams.get('cursor')).toBeTruthy();
    const paths: string[] = JSON.parse(first.body.toString()).map((e: { path: string }) => e.path);
    let url: string | undefined = m![1];
    while (url) {
      const page = await raw(url);
      paths.push(...JSON.parse(page.body.toString()).map((e: { path: string }) => e.path));
      url = /^<([^>]+)>/.exec(String(page.headers.link ?? ''))?.[1];
    }
    expect(paths).toHaveLength(11);
    expect(new Set(paths).size).toBe(11);
  });

  it('lists direct children without recursive, and accepts a sub-path sent as one encoded segment', async () => {
    const top = JSON.parse((await raw(`${hub.hubUrl}/api/datasets/bigcode/demo/tree/main`)).body.toString());
    expect(top.map((e: { path: string }) => e.path)).toEqual(['README.md', 'data', 'weird']);
    const sub = JSON.parse((await raw(`${hub.hubUrl}/api/datasets/bigcode/demo/tree/main/data%2Fpython`)).body.toString());
    expect(sub.map((e: { path: string }) => e.path)).toEqual(['data/python/a.parquet', 'data/python/b.parquet']);
  });

  it('paths-info answers JSON and form bodies with the entries that exist', async () => {
    const url = `${hub.hubUrl}/api/datasets/bigcode/demo/paths-info/main`;
    const json = await raw(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ paths: ['README.md', 'data/python', 'nope'], expand: true }),
    });
    const entries = JSON.parse(json.body.toString());
    expect(entries.map((e: { path: string; type: string }) => [e.path, e.type])).toEqual([
      ['README.md', 'file'],
      ['data/python', 'directory'],
    ]);
    expect(entries[0].lastCommit.id).toBe(hub.commitSha('bigcode/demo'));
    const form = await raw(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'paths=data%2Fpython%2Fa.parquet&expand=false',
    });
    const [a] = JSON.parse(form.body.toString());
    expect(a.lfs.oid).toBe(hub.fileInfoSync('bigcode/demo', 'data/python/a.parquet').lfs?.oid);
  });

  it('repo info: siblings with blobs=true, expand limits the fields', async () => {
    const full = JSON.parse((await raw(`${hub.hubUrl}/api/datasets/bigcode/demo?blobs=true`)).body.toString());
    expect(full.sha).toBe(hub.commitSha('bigcode/demo'));
    const a = full.siblings.find((s: { rfilename: string }) => s.rfilename === 'data/python/a.parquet');
    const info = hub.fileInfoSync('bigcode/demo', 'data/python/a.parquet');
    expect(a).toEqual({ rfilename: 'data/python/a.parquet', size: 300000, blobId: info.oid, lfs: { sha256: info.lfs?.oid, size: 300000, pointerSize: info.lfs?.pointerSize } });
    const some = JSON.parse((await raw(`${hub.hubUrl}/api/datasets/bigcode/demo/revision/HEAD?expand=sha&expand=gated`)).body.toString());
    expect(Object.keys(some).sort()).toEqual(['_id', 'gated', 'id', 'sha']);
  });
});

describe('rate-limit budgets', () => {
  it('counts every answer down in RateLimit and, when enforced, answers 429 once spent', async () => {
    const strict = await startTestHub({ rateLimits: { api: 2, enforce: true, windowSeconds: 300 } });
    try {
      const h = { Authorization: `Bearer ${ALICE}` };
      const one = await raw(`${strict.hubUrl}/api/datasets/bigcode/demo`, { headers: h });
      expect(one.headers.ratelimit).toMatch(/^"api";r=1;t=\d+$/);
      expect(one.headers['ratelimit-policy']).toBe('"fixed window";"api";q=2;w=300');
      await raw(`${strict.hubUrl}/api/datasets/bigcode/demo`, { headers: h });
      const third = await raw(`${strict.hubUrl}/api/datasets/bigcode/demo`, { headers: h });
      expect(third.status).toBe(429);
      expect(third.headers.ratelimit).toMatch(/^"api";r=0;t=\d+$/);
      expect(Number(third.headers['retry-after'])).toBeGreaterThan(0);
      // Resolvers are a separate bucket.
      expect((await raw(`${strict.hubUrl}/datasets/bigcode/demo/resolve/main/data/small.bin`, { headers: h })).status).toBe(200);
    } finally {
      await strict.stop();
    }
  });
});

import { afterEach, describe, expect, it } from '@jest/globals';
import { listRepoFiles, probeFileAccess, resolveRevision, type HubFile } from '../../src/hub/index.js';
import { json, startServer, type LocalServer } from './local-server.js';

const COMMIT = '0123456789abcdef0123456789abcdef01234567';
const TOKEN = 'hf_testtoken_aaaaaaaaaaaaaaaaaaaa';
const sha1 = (i: number) => i.toString(16).padStart(40, '0');
const sha256 = (i: number) => i.toString(16).padStart(64, 'f');

const servers: LocalServer[] = [];
async function server(handler: Parameters<typeof startServer>[0]): Promise<LocalServer> {
  const s = await startServer(handler);
  servers.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const delays: number[] = [];
const fastRetry = { sleep: async (ms: number) => void delays.push(ms), retryBaseMs: 1 };

async function collect(gen: AsyncGenerator<HubFile>): Promise<HubFile[]> {
  const out: HubFile[] = [];
  for await (const f of gen) out.push(f);
  return out;
}

describe('resolveRevision', () => {
  it('pins the revision to the commit, encodes it as one segment and reports gating', async () => {
    const hub = await server((req, res) => json(res, 200, { id: 'org/ds', _id: 'x', sha: COMMIT, private: false, gated: 'manual', lastModified: '2025-01-01T00:00:00Z' }));
    const r = await resolveRevision({ hubUrl: hub.url, repo: 'org/ds', revision: 'refs/pr/1', accessToken: TOKEN });
    expect(r).toEqual({ repo: 'org/ds', revision: 'refs/pr/1', commit: COMMIT, gated: 'manual', private: false });
    expect(hub.requests).toHaveLength(1);
    expect(hub.requests[0].url).toMatch(/^\/api\/datasets\/org\/ds\/revision\/refs%2Fpr%2F1\?/);
    expect(hub.requests[0].url).toContain('expand=sha');
    expect(hub.requests[0].authorization).toBe(`Bearer ${TOKEN}`);
  });

  it('maps RepoNotFound and RevisionNotFound to clear errors, without retrying', async () => {
    const hub = await server((req, res) => {
      if (req.url?.includes('/nope/')) json(res, 401, { error: 'Repository not found' }, { 'x-error-code': 'RepoNotFound' });
      else json(res, 404, { error: 'Invalid rev id: v9' }, { 'x-error-code': 'RevisionNotFound' });
    });
    await expect(resolveRevision({ hubUrl: hub.url, repo: 'org/nope', ...fastRetry })).rejects.toMatchObject({
      code: 'E_HUB_NOT_FOUND',
      exitCode: 2, // the manifest names something that is not there: bad input
      message: 'dataset org/nope not found or no access',
      hint: expect.stringContaining('set HF_TOKEN'),
    });
    await expect(resolveRevision({ hubUrl: hub.url, repo: 'org/ds', revision: 'v9', ...fastRetry })).rejects.toMatchObject({
      message: 'revision v9 not found in dataset org/ds',
      exitCode: 2,
    });
    expect(hub.requests).toHaveLength(2);
  });

  it('retries 5xx and 429 (honouring Retry-After) and then succeeds', async () => {
    delays.length = 0;
    let n = 0;
    const hub = await server((req, res) => {
      n += 1;
      if (n === 1) json(res, 503, { error: 'busy' });
      else if (n === 2) json(res, 429, { error: 'slow down' }, { 'retry-after': '7' });
      else json(res, 200, { id: 'org/ds', sha: COMMIT, private: true, gated: false });
    });
    const r = await resolveRevision({ hubUrl: hub.url, repo: 'org/ds', ...fastRetry });
    expect(r.commit).toBe(COMMIT);
    expect(r.private).toBe(true);
    expect(hub.requests).toHaveLength(3);
    expect(delays).toHaveLength(2);
    expect(delays[1]).toBeGreaterThanOrEqual(7000);
  });

  it('gives up after maxAttempts with the server error named', async () => {
    const hub = await server((req, res) => json(res, 502, { error: 'bad gateway' }));
    await expect(resolveRevision({ hubUrl: hub.url, repo: 'org/ds', maxAttempts: 3, ...fastRetry })).rejects.toMatchObject({
      message: 'Hub server error 502 for dataset org/ds after 3 attempts',
    });
    expect(hub.requests).toHaveLength(3);
  });

  it('retries network errors and reports them after the last attempt', async () => {
    const dead = await server(() => undefined);
    const url = dead.url;
    await dead.close();
    servers.pop();
    await expect(resolveRevision({ hubUrl: url, repo: 'org/ds', maxAttempts: 2, ...fastRetry })).rejects.toMatchObject({
      code: 'E_HUB',
      message: expect.stringMatching(/^network failure \(ECONNREFUSED\) .* after 2 attempts$/),
    });
  });

  it('refuses an answer without a valid commit sha', async () => {
    const hub = await server((req, res) => json(res, 200, { id: 'org/ds', sha: 'main' }));
    await expect(resolveRevision({ hubUrl: hub.url, repo: 'org/ds' })).rejects.toMatchObject({ code: 'E_HUB' });
  });
});

describe('listRepoFiles', () => {
  const PAGES = 12;
  function pagedTree(base: string, page: number) {
    const entries: unknown[] = [{ type: 'directory', oid: sha1(9999), size: 0, path: `dir${page}` }];
    for (let i = 0; i < 3; i++) {
      const k = page * 3 + i;
      entries.push(
        k % 2
          ? { type: 'file', oid: sha1(k), size: 1000 + k, path: `dir${page}/f${k}.parquet`, lfs: { oid: sha256(k), size: 1000 + k, pointerSize: 130 }, xetHash: 'a'.repeat(64) }
          : { type: 'file', oid: sha1(k), size: k, path: `dir${page}/f${k}.txt`, securityFileStatus: {} },
      );
    }
    const headers: Record<string, string> = page + 1 < PAGES ? { link: `<${base}/api/datasets/org/ds/tree/${COMMIT}?recursive=true&expand=false&cursor=p${page + 1}>; rel="next"` } : {};
    return { entries, headers };
  }

  it('follows every Link page at the pinned commit, without expand, skipping directories', async () => {
    const hub = await server((req, res, base) => {
      const page = Number(/cursor=p(\d+)/.exec(req.url ?? '')?.[1] ?? 0);
      const { entries, headers } = pagedTree(base, page);
      json(res, 200, entries, headers);
    });
    const files = await collect(listRepoFiles({ hubUrl: hub.url, repo: 'org/ds', commit: COMMIT, accessToken: TOKEN }));
    expect(hub.requests).toHaveLength(PAGES);
    expect(hub.requests[0].url).toBe(`/api/datasets/org/ds/tree/${COMMIT}?recursive=true&expand=false`);
    expect(hub.requests.every((r) => r.authorization === `Bearer ${TOKEN}`)).toBe(true);
    expect(files).toHaveLength(PAGES * 3);
    expect(files[1]).toEqual({ path: 'dir0/f1.parquet', size: 1001, oid: sha1(1), lfsSha256: sha256(1) });
    expect(files[0]).toEqual({ path: 'dir0/f0.txt', size: 0, oid: sha1(0), lfsSha256: null });
  });

  it('asks for the next page as soon as a page\'s headers arrive (the server works while we parse)', async () => {
    let releasePage0: () => void = () => undefined;
    const page1Asked = new Promise<void>((resolve) => (releasePage0 = resolve));
    let overlapped = false;
    const hub = await server((req, res, base) => {
      if (req.url?.includes('cursor=1')) {
        releasePage0();
        json(res, 200, [{ type: 'file', oid: sha1(2), size: 2, path: 'b' }]);
        return;
      }
      // Page 0: headers (with Link) now, body only once page 1 was asked for (or after 5 s).
      res.writeHead(200, { 'content-type': 'application/json', link: `<${base}/api/datasets/org/ds/tree/${COMMIT}?cursor=1>; rel="next"` });
      res.write('[');
      const timer = setTimeout(releasePage0, 5000);
      void page1Asked.then(() => {
        clearTimeout(timer);
        overlapped = hub.requests.length === 2;
        res.end(JSON.stringify({ type: 'file', oid: sha1(1), size: 1, path: 'a' }) + ']');
      });
    });
    const files = await collect(listRepoFiles({ hubUrl: hub.url, repo: 'org/ds', commit: COMMIT }));
    expect(files.map((f) => f.path)).toEqual(['a', 'b']);
    expect(overlapped).toBe(true);
    expect(hub.requests).toHaveLength(2);
  });

  it('never sends the token to another origin named by a Link header', async () => {
    const other = await server((req, res) => json(res, 200, [{ type: 'file', oid: sha1(2), size: 2, path: 'b' }]));
    const hub = await server((req, res) =>
      json(res, 200, [{ type: 'file', oid: sha1(1), size: 1, path: 'a' }], { link: `<${other.url}/next?cursor=x>; rel="next"` }),
    );
    const files = await collect(listRepoFiles({ hubUrl: hub.url, repo: 'org/ds', commit: COMMIT, accessToken: TOKEN }));
    expect(files.map((f) => f.path)).toEqual(['a', 'b']);
    expect(hub.requests[0].authorization).toBe(`Bearer ${TOKEN}`);
    expect(other.requests).toEqual([{ method: 'GET', url: '/next?cursor=x', authorization: undefined }]);
  });

  it('keeps the token across a same-origin redirect (renamed repo) and lists the new location', async () => {
    const hub = await server((req, res) => {
      if (req.url?.startsWith('/api/datasets/old/ds/')) {
        res.writeHead(307, { location: req.url.replace('/old/', '/org/') });
        res.end();
      } else json(res, 200, [{ type: 'file', oid: sha1(1), size: 1, path: 'a' }]);
    });
    const files = await collect(listRepoFiles({ hubUrl: hub.url, repo: 'old/ds', commit: COMMIT, accessToken: TOKEN }));
    expect(files).toHaveLength(1);
    expect(hub.requests.map((r) => [r.url.split('?')[0], r.authorization])).toEqual([
      [`/api/datasets/old/ds/tree/${COMMIT}`, `Bearer ${TOKEN}`],
      [`/api/datasets/org/ds/tree/${COMMIT}`, `Bearer ${TOKEN}`],
    ]);
  });

  it('refuses an unsafe path, naming repo and path', async () => {
    const hub = await server((req, res) =>
      json(res, 200, [
        { type: 'file', oid: sha1(1), size: 1, path: 'ok.txt' },
        { type: 'file', oid: sha1(2), size: 1, path: '../../.bashrc' },
      ]),
    );
    await expect(collect(listRepoFiles({ hubUrl: hub.url, repo: 'org/ds', commit: COMMIT }))).rejects.toMatchObject({
      code: 'E_UNSAFE_PATH',
      exitCode: 2,
      message: expect.stringMatching(/"\.\.\/\.\.\/\.bashrc" in org\/ds/),
    });
  });

  it('refuses malformed entries and a listing by branch name', async () => {
    const hub = await server((req, res) => json(res, 200, [{ type: 'file', oid: 'nothex', size: 1, path: 'a' }]));
    await expect(collect(listRepoFiles({ hubUrl: hub.url, repo: 'org/ds', commit: COMMIT }))).rejects.toMatchObject({
      code: 'E_HUB',
      message: expect.stringContaining('malformed tree entry for "a"'),
    });
    await expect(collect(listRepoFiles({ hubUrl: hub.url, repo: 'org/ds', commit: 'main' }))).rejects.toMatchObject({ code: 'E_HUB' });
    expect(hub.requests).toHaveLength(1);
  });
});

describe('probeFileAccess', () => {
  it('accepts a redirect to the CDN without following it', async () => {
    const cdn = await server((req, res) => res.end('x'));
    const hub = await server((req, res) => {
      res.writeHead(302, { location: `${cdn.url}/blob?sig=1`, 'x-linked-size': '5' });
      res.end();
    });
    await probeFileAccess({ hubUrl: hub.url, repo: 'org/ds', commit: COMMIT, path: 'data/a b.parquet', accessToken: TOKEN });
    expect(hub.requests).toEqual([{ method: 'HEAD', url: `/datasets/org/ds/resolve/${COMMIT}/data/a%20b.parquet`, authorization: `Bearer ${TOKEN}` }]);
    expect(cdn.requests).toHaveLength(0);
  });

  it('turns 403 GatedRepo into an AuthError naming the access page', async () => {
    const hub = await server((req, res) => {
      res.writeHead(403, { 'x-error-code': 'GatedRepo', 'x-error-message': 'not in the authorized list' });
      res.end();
    });
    await expect(probeFileAccess({ hubUrl: hub.url, repo: 'org/ds', commit: COMMIT, path: 'a', accessToken: TOKEN })).rejects.toMatchObject({
      code: 'E_AUTH',
      exitCode: 2,
      hint: expect.stringContaining(`${hub.url}/datasets/org/ds`),
    });
    expect(hub.requests).toHaveLength(1);
  });
});

// Shared test fixtures: a small config with every kind of repo, and a raw HTTP client that
// shows exactly what went over the wire (fetch hides gzip and cut connections).
import { request } from 'node:http';
import { startFakeHub, type FakeHub, type FakeHubOptions } from '../src/index.js';
import type { FakeHubConfig } from '../src/types.js';

export const ALICE = 'hf_alice_token'; // member of org "acme", may download gated bigcode/gated
export const BOB = 'hf_bob_token'; // valid, but on no access list

export const CONFIG: FakeHubConfig = {
  tokens: [
    { token: ALICE, user: 'alice', orgs: ['acme'], canAccessGated: ['bigcode/gated'] },
    { token: BOB, user: 'bob' },
  ],
  repos: [
    {
      id: 'bigcode/demo',
      renamed_from: 'bigcode/old-demo',
      commits: [
        {
          files: [
            { path: 'README.md', text: '# demo\n\nHello from fakehub.\n' },
            { path: 'data/python/a.parquet', size: 300_000, lfs: true, seed: 7 },
            { path: 'data/python/b.parquet', size: 2_000, lfs: true },
            { path: 'data/small.bin', size: 5_000 },
            { path: 'data/empty.txt', size: 0 },
            { path: 'data/dir with space/é ü.bin', size: 100 },
            { path: 'weird/a#b?c+d%e.txt', text: 'weird' },
          ],
        },
        { branch: 'refs/pr/1', files: [{ path: 'pr.txt', text: 'from a PR\n' }] },
      ],
    },
    { id: 'bigcode/gated', gated: 'auto', files: [{ path: 'x.bin', size: 1000 }, { path: 'big.bin', size: 50_000, lfs: true }] },
    { id: 'acme/private', private: true, files: [{ path: 'secret.txt', text: 'shh' }] },
    { id: 'many/files', generate: { count: 25, prefix: 'data/', size: [10, 200], perDir: 10 } },
  ],
};

export function startTestHub(options: Partial<FakeHubOptions> = {}): Promise<FakeHub> {
  return startFakeHub({ config: CONFIG, hashCacheDir: false, ...options });
}

export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** Number of 'data' events (how the body arrived). */
  chunks: number;
  /** The connection ended before the announced length. */
  cut: boolean;
}

/** One request on a fresh connection; never throws on a cut body. */
export function raw(url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers, agent: false }, (res) => {
      const parts: Buffer[] = [];
      let chunks = 0;
      let cut = false;
      res.on('data', (c: Buffer) => {
        parts.push(c);
        chunks++;
      });
      res.on('aborted', () => (cut = true));
      res.on('error', () => (cut = true));
      res.on('close', () => {
        const body = Buffer.concat(parts);
        const want = res.headers['content-length'];
        if (want !== undefined && Number(want) !== body.length && options.method !== 'HEAD') cut = true;
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, chunks, cut });
      });
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

// Options beyond the defaults: the token shorthand, a strict CDN, onResponse, prehash, and
// a branch that moves between two tree pages (later pages come from the new commit).
import { describe, expect, it } from '@jest/globals';
import type { RequestRecord } from '../src/index.js';
import { raw, startTestHub } from './helpers.js';

describe('startFakeHub options', () => {
  it('token: one more token that may read gated and private repos', async () => {
    const hub = await startTestHub({ token: 'hf_everything' });
    try {
      const h = { Authorization: 'Bearer hf_everything' };
      expect((await raw(`${hub.hubUrl}/api/datasets/acme/private`, { headers: h })).status).toBe(200);
      expect((await raw(`${hub.hubUrl}/datasets/bigcode/gated/resolve/main/x.bin`, { headers: h })).status).toBe(200);
      const me = JSON.parse((await raw(`${hub.hubUrl}/api/whoami-v2`, { headers: h })).body.toString());
      expect(me.name).toBe('fakehub-user');
    } finally {
      await hub.stop();
    }
  });

  it('cdnRejectAuthorization: the CDN answers 400 to a request carrying a token; onResponse sees each answer', async () => {
    const seen: RequestRecord[] = [];
    const hub = await startTestHub({ cdnRejectAuthorization: true, prehash: true, onResponse: (r) => seen.push(r) });
    try {
      const r = await raw(`${hub.hubUrl}/datasets/bigcode/demo/resolve/main/data/python/b.parquet`);
      const location = String(r.headers.location);
      expect((await raw(location, { headers: { Authorization: 'Bearer hf_x' } })).status).toBe(400);
      expect((await raw(location)).status).toBe(200);
      // 'close' events follow the answers: wait for the third (bounded).
      for (let i = 0; i < 250 && seen.length < 3; i++) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(seen.map((s) => [s.host, s.status, s.bytesSent])).toEqual([
        ['hub', 302, r.body.length],
        ['cdn', 400, expect.any(Number)],
        ['cdn', 200, 2000],
      ]);
    } finally {
      await hub.stop();
    }
  });

  it('a cursor is a position, not a snapshot: a branch moved between pages shows on the next page', async () => {
    const hub = await startTestHub({ pageSize: 2 });
    try {
      const first = await raw(`${hub.hubUrl}/api/datasets/bigcode/demo/tree/main?recursive=true`);
      const next = /^<([^>]+)>/.exec(String(first.headers.link))![1];
      hub.moveBranch('bigcode/demo', 'main', { files: [{ path: 'aaa/new.txt', text: 'n' }, { path: 'zzz.txt', text: 'z' }] });
      const paths: string[] = [];
      let url: string | undefined = next;
      while (url) {
        const page = await raw(url);
        paths.push(...JSON.parse(page.body.toString()).map((e: { path: string }) => e.path));
        url = /^<([^>]+)>/.exec(String(page.headers.link ?? ''))?.[1];
      }
      expect(paths).toContain('zzz.txt'); // after the cursor: seen
      expect(paths).not.toContain('aaa/new.txt'); // before the cursor: missed, as on the Hub
    } finally {
      await hub.stop();
    }
  });
});

import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { downloadBlob } from '../../src/index.js';
import { gitSha1, send, sha256 } from './serve.js';
import { COMMIT, TOKEN, content, lfsParams, redirectToCdn, startRig, type Rig } from './setup.js';

describe('downloadBlob: redirects and the token', () => {
  let rig: Rig;
  beforeEach(async () => (rig = await startRig()));
  afterEach(() => rig.close());

  it('follows the resolve 302 to the CDN (same host, other port) without Authorization', async () => {
    const body = content(3 * 1024 * 1024 + 17);
    rig.hubHandler = redirectToCdn(rig, body);
    rig.cdnHandler = (req, res) => send(req, res, rig.cdn, body);
    const p = lfsParams(rig, body);

    const result = await downloadBlob(p);

    expect(result).toEqual({ bytesFetched: body.length, resumedFrom: 0, attempts: 1, skipped: false, sha256: sha256(body) });
    expect(rig.hub.seen[0]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(rig.cdn.seen).toHaveLength(1);
    expect(rig.cdn.seen[0]!.headers.authorization).toBeUndefined();
    expect(rig.cdn.seen[0]!.url).toContain('Signature=sig');
    for (const s of [...rig.hub.seen, ...rig.cdn.seen]) expect(s.headers['accept-encoding']).toBe('identity');
    expect(readFileSync(p.finalPath).equals(body)).toBe(true);
    expect(existsSync(p.partialPath)).toBe(false);
  });

  it('keeps the token across a same-origin relative 307 (renamed repo) and checks the git blob sha1', async () => {
    const body = Buffer.from('{"hello": "world"}\n');
    rig.hubHandler = (req, res) => {
      if (req.url!.startsWith('/datasets/old-org/')) {
        res.writeHead(307, { location: req.url!.replace('/datasets/old-org/', '/datasets/org/') }).end();
      } else {
        send(req, res, rig.hub, body, { headers: { etag: `"${gitSha1(body)}"`, 'x-repo-commit': COMMIT } });
      }
    };
    const oid = gitSha1(body);
    const p = {
      ...lfsParams(rig, body),
      url: `${rig.hub.origin}/datasets/old-org/x/resolve/${COMMIT}/config.json`,
      path: 'config.json',
      expected: { size: body.length, gitSha1: oid },
      partialPath: join(rig.dir, 'blobs', `${oid}.incomplete`),
      finalPath: join(rig.dir, 'blobs', oid),
    };

    const result = await downloadBlob(p);

    expect(result.gitSha1).toBe(oid);
    expect(rig.hub.seen.map((s) => s.url.split('/')[2])).toEqual(['old-org', 'org']);
    expect(rig.hub.seen.map((s) => s.headers.authorization)).toEqual([`Bearer ${TOKEN}`, `Bearer ${TOKEN}`]);
    expect(readFileSync(p.finalPath).equals(body)).toBe(true);
  });

  it('sends no Authorization at all without a token', async () => {
    const body = content(1000);
    rig.hubHandler = redirectToCdn(rig, body);
    rig.cdnHandler = (req, res) => send(req, res, rig.cdn, body);
    await downloadBlob({ ...lfsParams(rig, body), token: undefined });
    expect(rig.hub.seen[0]!.headers.authorization).toBeUndefined();
  });
});

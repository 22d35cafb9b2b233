import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { IntegrityError } from '@hfhpc/core';
import { EMPTY_GIT_BLOB_SHA1, downloadBlob } from '../../src/index.js';
import { gitSha1, send } from './serve.js';
import { COMMIT, content, lfsParams, redirectToCdn, startRig, type Rig } from './setup.js';

function corrupt(body: Buffer): Buffer {
  const bad = Buffer.from(body);
  bad[bad.length >> 1] ^= 0xff;
  return bad;
}

describe.each(['local', 'worker'] as const)('downloadBlob: integrity (hash on the %s thread)', (hashThread) => {
  let rig: Rig;
  beforeEach(async () => (rig = await startRig()));
  afterEach(() => rig.close());

  it('re-downloads after corrupted bytes and publishes only the good blob', async () => {
    const body = content(512 * 1024);
    rig.hubHandler = redirectToCdn(rig, body);
    rig.cdnHandler = (req, res, i) => send(req, res, rig.cdn, i === 0 ? corrupt(body) : body);
    const p = lfsParams(rig, body, { hashThread });

    const result = await downloadBlob(p);

    expect(result).toMatchObject({ attempts: 2, bytesFetched: 2 * body.length });
    expect(rig.cdn.seen[1]!.headers.range).toBeUndefined();
    expect(readFileSync(p.finalPath).equals(body)).toBe(true);
  });

  it('gives up with IntegrityError on persistent corruption, leaving no final and no partial file', async () => {
    const body = content(64 * 1024);
    rig.hubHandler = redirectToCdn(rig, body);
    rig.cdnHandler = (req, res) => send(req, res, rig.cdn, corrupt(body));
    const p = lfsParams(rig, body, { hashThread, retry: { baseMs: 1, capMs: 5, maxIntegrityRetries: 1 } });

    const err = await downloadBlob(p).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(IntegrityError);
    expect((err as Error).message).toMatch(/^data\/a\.parquet in dataset org\/x failed verification 2 times: sha256 [0-9a-f]{64}, expected/);
    expect(rig.cdn.seen).toHaveLength(2);
    expect(existsSync(p.finalPath)).toBe(false);
    expect(existsSync(p.partialPath)).toBe(false);
  });

  it('refuses at once when the Hub states another size than the plan (no body fetched)', async () => {
    const body = content(1000);
    rig.hubHandler = redirectToCdn(rig, body, { 'x-linked-size': '999' });
    rig.cdnHandler = (req, res) => send(req, res, rig.cdn, body);
    const err = await downloadBlob(lfsParams(rig, body, { hashThread })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IntegrityError);
    expect((err as IntegrityError).hint).toContain('hfhpc plan');
    expect(rig.cdn.seen).toHaveLength(0);
  });

  it('creates a zero-length blob without any request', async () => {
    const p = {
      ...lfsParams(rig, Buffer.alloc(0), { hashThread }),
      path: 'empty.txt',
      expected: { size: 0, gitSha1: EMPTY_GIT_BLOB_SHA1 },
      partialPath: join(rig.dir, 'blobs', `${EMPTY_GIT_BLOB_SHA1}.incomplete`),
      finalPath: join(rig.dir, 'blobs', EMPTY_GIT_BLOB_SHA1),
    };
    expect(await downloadBlob(p)).toEqual({ bytesFetched: 0, resumedFrom: 0, attempts: 0, skipped: false, gitSha1: EMPTY_GIT_BLOB_SHA1 });
    expect(readFileSync(p.finalPath).length).toBe(0);
    expect(rig.hub.seen).toHaveLength(0);
    // The plan saying "0 bytes" with another hash is a contradiction, not a download.
    await expect(downloadBlob({ ...p, expected: { size: 0, gitSha1: 'ab'.repeat(20) } })).rejects.toThrow(IntegrityError);
  });

  it('never touches an existing complete blob and drops a stale partial', async () => {
    const body = content(1000);
    const p = lfsParams(rig, body, { hashThread });
    await mkdir(dirname(p.finalPath), { recursive: true });
    await writeFile(p.finalPath, 'already here');
    await writeFile(p.partialPath, 'stale');

    expect(await downloadBlob(p)).toMatchObject({ skipped: true, attempts: 0 });

    expect(readFileSync(p.finalPath, 'utf8')).toBe('already here');
    expect(existsSync(p.partialPath)).toBe(false);
    expect(rig.hub.seen).toHaveLength(0);
  });

  it('stores decoded bytes when a git file comes gzip-compressed anyway', async () => {
    const body = Buffer.from('text file line\n'.repeat(2000));
    const oid = gitSha1(body);
    rig.hubHandler = (_req, res) => {
      // Compressed even though we asked for identity, chunked, weak ETag: as the Hub may do.
      res.writeHead(200, { 'content-encoding': 'gzip', etag: `W/"${oid}"`, 'x-repo-commit': COMMIT }).end(gzipSync(body));
    };
    const p = {
      ...lfsParams(rig, body, { hashThread }),
      path: 'README.md',
      expected: { size: body.length, gitSha1: oid },
      partialPath: join(rig.dir, 'blobs', `${oid}.incomplete`),
      finalPath: join(rig.dir, 'blobs', oid),
    };

    const result = await downloadBlob(p);

    expect(rig.hub.seen[0]!.headers['accept-encoding']).toBe('identity');
    expect(result.gitSha1).toBe(oid);
    expect(readFileSync(p.finalPath).equals(body)).toBe(true);
  });
});

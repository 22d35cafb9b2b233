import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { downloadBlob } from '../../src/index.js';
import { rangeStart, send } from './serve.js';
import { content, lfsParams, redirectToCdn, startRig, type Rig } from './setup.js';

describe.each(['local', 'worker'] as const)('downloadBlob: resume (hash on the %s thread)', (hashThread) => {
  let rig: Rig;
  beforeEach(async () => (rig = await startRig()));
  afterEach(() => rig.close());

  it('resumes a dropped body with Range from the cached CDN URL, re-fetching < 5 %', async () => {
    const body = content(8 * 1024 * 1024);
    rig.hubHandler = redirectToCdn(rig, body);
    rig.cdnHandler = (req, res, i) => send(req, res, rig.cdn, body, i === 0 ? { cutAfter: Math.floor(body.length * 0.4) } : {});
    const p = lfsParams(rig, body, { hashThread });

    const result = await downloadBlob(p);

    expect(readFileSync(p.finalPath).equals(body)).toBe(true);
    expect(result.attempts).toBe(2);
    expect(rig.hub.seen).toHaveLength(1); // the resume spent no second resolve
    const resumedAt = rangeStartOf(rig.cdn.seen[1]!.headers.range);
    expect(resumedAt).toBeGreaterThan(0);
    expect(resumedAt).toBeLessThanOrEqual(Math.floor(body.length * 0.4));
    expect((rig.cdn.bytesSent - body.length) / body.length).toBeLessThan(0.05);
    expect(result.bytesFetched).toBe(body.length);
  });

  it('resumes a partial file left by an earlier run after re-hashing it', async () => {
    const body = content(2 * 1024 * 1024 + 5);
    const half = 1024 * 1024 + 3;
    rig.hubHandler = redirectToCdn(rig, body);
    rig.cdnHandler = (req, res) => send(req, res, rig.cdn, body);
    const p = lfsParams(rig, body, { hashThread });
    await mkdir(dirname(p.partialPath), { recursive: true });
    await writeFile(p.partialPath, body.subarray(0, half));

    const result = await downloadBlob(p);

    expect(result).toMatchObject({ resumedFrom: half, bytesFetched: body.length - half, attempts: 1 });
    expect(rig.cdn.seen[0]!.headers.range).toBe(`bytes=${half}-`);
    expect(readFileSync(p.finalPath).equals(body)).toBe(true);
  });

  it('restarts from 0 in the same answer when the server ignores Range (200)', async () => {
    const body = content(1024 * 1024);
    rig.hubHandler = redirectToCdn(rig, body);
    rig.cdnHandler = (req, res) => send(req, res, rig.cdn, body, { ignoreRange: true });
    const p = lfsParams(rig, body, { hashThread });
    await mkdir(dirname(p.partialPath), { recursive: true });
    await writeFile(p.partialPath, body.subarray(0, 1000));

    const result = await downloadBlob(p);

    expect(rig.cdn.seen[0]!.headers.range).toBe('bytes=1000-');
    expect(result).toMatchObject({ resumedFrom: 0, bytesFetched: body.length, attempts: 1 });
    expect(readFileSync(p.finalPath).equals(body)).toBe(true);
  });

  it('publishes a complete, valid partial without any request; empties an over-long one', async () => {
    const body = content(4096);
    rig.hubHandler = redirectToCdn(rig, body);
    rig.cdnHandler = (req, res) => send(req, res, rig.cdn, body);
    const p = lfsParams(rig, body, { hashThread });
    await mkdir(dirname(p.partialPath), { recursive: true });
    await writeFile(p.partialPath, body);
    expect(await downloadBlob(p)).toMatchObject({ attempts: 0, bytesFetched: 0, resumedFrom: body.length });
    expect(rig.hub.seen).toHaveLength(0);

    const q = lfsParams(rig, content(4096, 2), { hashThread });
    await writeFile(q.partialPath, Buffer.alloc(5000, 1));
    rig.hubHandler = redirectToCdn(rig, content(4096, 2));
    rig.cdnHandler = (req, res) => send(req, res, rig.cdn, content(4096, 2));
    expect(await downloadBlob(q)).toMatchObject({ resumedFrom: 0, bytesFetched: 4096 });
    expect(rig.cdn.seen[0]!.headers.range).toBeUndefined();
  });

  it('aborts a stalled body after stallMs and resumes it', async () => {
    const body = content(1024 * 1024);
    const first = Math.floor(body.length * 0.3);
    rig.hubHandler = redirectToCdn(rig, body);
    rig.cdnHandler = (req, res, i) => send(req, res, rig.cdn, body, i === 0 ? { stallAfter: first } : {});
    const p = lfsParams(rig, body, { hashThread, timeouts: { stallMs: 200 } });
    const progress: number[] = [];

    const result = await downloadBlob({ ...p, onProgress: (n) => progress.push(n), progressIntervalMs: 20 });

    expect(result.attempts).toBe(2);
    expect(rig.cdn.seen[1]!.headers.range).toBe(`bytes=${first}-`);
    expect(readFileSync(p.finalPath).equals(body)).toBe(true);
    expect(progress).toContain(first);
    expect(progress.at(-1)).toBe(body.length);
    expect([...progress].sort((a, b) => a - b)).toEqual(progress);
    expect(existsSync(p.partialPath)).toBe(false);
  });
});

function rangeStartOf(range: string | undefined): number {
  return rangeStart({ headers: { range } } as never) ?? -1;
}

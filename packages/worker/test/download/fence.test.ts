// The fence reaches the bytes: a download writes only into a partial file it created itself,
// resumes by copying an older partial (never writing into it), checks its lease before every
// write batch, and publishes only after the lease's fence check.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, open, readdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { LeaseLostError, StaleFenceError } from '@hfhpc/core';
import { downloadBlob, type DownloadLease } from '../../src/index.js';
import { send } from './serve.js';
import { content, lfsParams, redirectToCdn, startRig, type Rig } from './setup.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

function lease(over: Partial<DownloadLease> = {}): DownloadLease & { confirms: number; publishes: number } {
  const l = {
    confirms: 0,
    publishes: 0,
    writableUntil: () => Number.MAX_SAFE_INTEGER,
    confirm: async () => {
      l.confirms++;
    },
    beforePublish: async () => {
      l.publishes++;
    },
    ...over,
  };
  return l;
}

describe.each(['local', 'worker'] as const)('downloadBlob: fenced partial files (hash on the %s thread)', (hashThread) => {
  let rig: Rig;
  beforeEach(async () => (rig = await startRig()));
  afterEach(() => rig.close());

  it('resumes by copying an earlier claim’s partial into a new file: the stale writer’s descriptor reaches neither the new partial nor the blob', async () => {
    const body = content(3 * 1024 * 1024 + 7);
    const kept = 1024 * 1024 + 1;
    rig.hubHandler = redirectToCdn(rig, body);
    rig.cdnHandler = (req, res) => send(req, res, rig.cdn, body);
    const base = lfsParams(rig, body, { hashThread });
    const blobs = dirname(base.partialPath);
    const older = join(blobs, `${sha(body)}.p1s0f1-aaaa.incomplete`);
    const legacy = join(blobs, `${sha(body)}.incomplete`);
    await mkdir(blobs, { recursive: true });
    await writeFile(older, body.subarray(0, kept));
    await writeFile(legacy, body.subarray(0, 10));
    // The stale task: frozen with its partial open, it wakes and writes after the takeover.
    const stale = await open(older, 'r+');
    const mine = join(blobs, `${sha(body)}.p1s0f2-bbbb.incomplete`);
    const result = await downloadBlob({ ...base, partialPath: mine, resumeFrom: [older, legacy], lease: lease() });
    await stale.write(Buffer.alloc(64 * 1024, 0xee), 0, 64 * 1024, 0);
    await stale.write(Buffer.alloc(64 * 1024, 0xee), 0, 64 * 1024, kept);
    await stale.close();

    expect(result).toMatchObject({ resumedFrom: kept, bytesFetched: body.length - kept });
    expect(rig.cdn.seen[0]!.headers.range).toBe(`bytes=${kept}-`);
    const published = readFileSync(base.finalPath);
    expect(sha(published)).toBe(sha(body));
    // Every earlier partial is gone (the stale one lives on only as an orphan inode).
    expect(await readdir(blobs)).toEqual([sha(body)]);
  });

  it('a partial already at its own name is taken over too: moved aside, copied, never written in place', async () => {
    const body = content(2 * 1024 * 1024);
    const kept = 700_001;
    rig.hubHandler = redirectToCdn(rig, body);
    rig.cdnHandler = (req, res) => send(req, res, rig.cdn, body);
    const p = lfsParams(rig, body, { hashThread });
    await mkdir(dirname(p.partialPath), { recursive: true });
    await writeFile(p.partialPath, body.subarray(0, kept));
    const before = await stat(p.partialPath);
    const stale = await open(p.partialPath, 'r+');
    const result = await downloadBlob(p);
    await stale.write(Buffer.alloc(4096, 0xee), 0, 4096, 0);
    await stale.close();
    expect(result.resumedFrom).toBe(kept);
    expect((await stat(p.finalPath)).ino).not.toBe(before.ino);
    expect(sha(readFileSync(p.finalPath))).toBe(sha(body));
  });

  it('publishes only after beforePublish: a stale fence leaves no blob and keeps the verified partial', async () => {
    const body = content(1024 * 1024 + 3);
    rig.hubHandler = redirectToCdn(rig, body);
    rig.cdnHandler = (req, res) => send(req, res, rig.cdn, body);
    const stale = new StaleFenceError('fencing token 1 is stale (shard is at 2)', { hint: 'test' });
    const l = lease({ beforePublish: () => Promise.reject(stale) });
    const p = lfsParams(rig, body, { hashThread, lease: l });
    await expect(downloadBlob(p)).rejects.toBe(stale);
    expect(existsSync(p.finalPath)).toBe(false);
    expect(readFileSync(p.partialPath).length).toBe(body.length);
  });

  it('past the lease deadline nothing is written until confirm: a lost lease stops every write', async () => {
    const body = content(2 * 1024 * 1024);
    rig.hubHandler = redirectToCdn(rig, body);
    rig.cdnHandler = (req, res) => send(req, res, rig.cdn, body);
    const gone = new LeaseLostError('lease on shard 0 is lost (now held by b@h:2)', { hint: 'test' });
    let deadline = Number.MAX_SAFE_INTEGER;
    const l = lease({ writableUntil: () => deadline, confirm: () => Promise.reject(gone) });
    // The lease runs out once the body starts arriving: the first batch already waits on confirm.
    rig.cdnHandler = (req, res) => {
      deadline = 0;
      send(req, res, rig.cdn, body);
    };
    const p = lfsParams(rig, body, { hashThread, lease: l });
    await expect(downloadBlob(p)).rejects.toBe(gone);
    expect(existsSync(p.finalPath)).toBe(false);
    expect(readFileSync(p.partialPath).length).toBe(0);
  });

  it('past the deadline with the lease still ours (confirm resolves): the download carries on and publishes', async () => {
    const body = content(2 * 1024 * 1024);
    rig.hubHandler = redirectToCdn(rig, body);
    let deadline = Number.MAX_SAFE_INTEGER;
    const l = lease({
      writableUntil: () => deadline,
      confirm: async () => {
        l.confirms++;
        deadline = Number.MAX_SAFE_INTEGER;
      },
    });
    rig.cdnHandler = (req, res) => {
      deadline = 0;
      send(req, res, rig.cdn, body);
    };
    const p = lfsParams(rig, body, { hashThread, lease: l });
    await downloadBlob(p);
    expect(l.confirms).toBeGreaterThanOrEqual(1);
    expect(l.publishes).toBe(1);
    expect(sha(readFileSync(p.finalPath))).toBe(sha(body));
  });
});

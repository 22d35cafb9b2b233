import { afterAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HashWorkerPool } from '../../src/index.js';
import { content } from './serve.js';

describe('HashWorkerPool', () => {
  const pool = new HashWorkerPool({ maxWorkers: 2, buffersPerHash: 2 });
  afterAll(() => pool.close());

  it('hashes on a worker exactly like crypto, across staging-buffer boundaries and backpressure', async () => {
    const data = content(5 * 1024 * 1024 + 123, 9);
    // Odd chunk sizes so chunks straddle the 1 MiB staging buffers; 2 buffers force waits.
    const chunks: Buffer[] = [];
    for (let at = 0, n = 1; at < data.length; at += n, n = (n * 7 + 12_345) % 700_000) chunks.push(data.subarray(at, at + n));
    const sha = pool.start('sha256');
    const git = pool.start('sha1', `blob ${data.length}\0`);
    let waited = 0;
    for (let i = 0; i < chunks.length; i += 3) {
      const batch = chunks.slice(i, i + 3);
      for (const h of [sha, git]) {
        const p = h.update(batch);
        if (p) {
          waited++;
          await p;
        }
      }
    }
    expect(waited).toBeGreaterThan(0);
    expect(await sha.digest()).toBe(createHash('sha256').update(data).digest('hex'));
    expect(await git.digest()).toBe(createHash('sha1').update(`blob ${data.length}\0`).update(data).digest('hex'));
  });

  it('copies what it is given: the caller may reuse its buffer at once', async () => {
    const buf = Buffer.alloc(1000, 1);
    const h = pool.start('sha256');
    await h.update([buf]);
    buf.fill(2);
    await h.update([buf]);
    const want = createHash('sha256').update(Buffer.alloc(1000, 1)).update(Buffer.alloc(1000, 2)).digest('hex');
    expect(await h.digest()).toBe(want);
  });

  it('writes batches at their offsets on the worker, then hashes them: owned chunks move, shared ones are copied, order kept with copied bytes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hash-pool-'));
    const fd = openSync(join(dir, 'blob'), 'w+');
    try {
      const data = content(3 * 1024 * 1024 + 77, 5);
      const head = Buffer.from(data.subarray(0, 100)); // fed by copy (a resume re-hash), not written
      writeSync(fd, head, 0, head.length, 0);
      const owned = Buffer.from(data.subarray(100, 1024 * 1024)); // owns its whole ArrayBuffer
      const shared = Buffer.concat([data.subarray(1024 * 1024, 2 * 1024 * 1024), Buffer.alloc(10)]).subarray(0, 1024 * 1024);
      const rest = Buffer.from(data.subarray(2 * 1024 * 1024));
      const h = pool.start('sha256');
      expect(h.update([head])).toBeUndefined();
      const first = h.writeAndUpdate!(fd, 100, [owned]);
      expect(owned.length).toBe(0); // detached: moved to the worker
      const second = h.writeAndUpdate!(fd, 1024 * 1024, [shared, rest]);
      expect(shared.length).toBe(1024 * 1024); // shares its buffer: copied, left intact
      await Promise.all([first.landed, second.landed, first.room, second.room]);
      expect(pool.lentBytes).toBe(0);
      expect(await h.digest()).toBe(createHash('sha256').update(data).digest('hex'));
      expect(readFileSync(join(dir, 'blob')).equals(data)).toBe(true);
    } finally {
      closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('pushes back when batch bytes pile up beyond the per-hash limit', async () => {
    const fd = openSync('/dev/null', 'w');
    try {
      const h = pool.start('sha256'); // buffersPerHash 2: at most ~2 MiB in flight
      const data = content(4 * 1024 * 1024, 6);
      const first = h.writeAndUpdate!(fd, 0, [Buffer.from(data.subarray(0, 3 * 1024 * 1024))]);
      expect(first.room).toBeInstanceOf(Promise);
      await first.room;
      const second = h.writeAndUpdate!(fd, 3 * 1024 * 1024, [Buffer.from(data.subarray(3 * 1024 * 1024))]);
      await Promise.all([first.landed, second.landed]);
      expect(await h.digest()).toBe(createHash('sha256').update(data).digest('hex'));
    } finally {
      closeSync(fd);
    }
  });

  it('rejects a failed write with its errno (ENOSPC on /dev/full), and every later batch of that hash', async () => {
    const fd = openSync('/dev/full', 'w');
    try {
      const h = pool.start('sha256');
      const a = h.writeAndUpdate!(fd, 0, [Buffer.alloc(4096, 1)]);
      const b = h.writeAndUpdate!(fd, 4096, [Buffer.alloc(4096, 2)]);
      await expect(a.landed).rejects.toMatchObject({ code: 'ENOSPC', syscall: 'write' });
      await expect(b.landed).rejects.toMatchObject({ code: 'ENOSPC' });
      expect(pool.lentBytes).toBe(0);
      h.dispose();
    } finally {
      closeSync(fd);
    }
  });

  it('gathers 256 KiB batches for one stream and for many (the fair share bounds what is in flight)', async () => {
    const shared = new HashWorkerPool({ maxWorkers: 1, stagingBudgetBytes: 8 * 1024 * 1024 });
    try {
      const one = shared.start('sha256');
      expect(one.batchBytes!()).toBe(256 * 1024);
      const more = Array.from({ length: 7 }, () => shared.start('sha256'));
      expect(one.batchBytes!()).toBe(256 * 1024);
      for (const h of more) h.dispose();
      expect(one.batchBytes!()).toBe(256 * 1024);
      one.dispose();
    } finally {
      await shared.close();
    }
  });

  it('forgets disposed hashes and refuses use after digest', async () => {
    const h = pool.start('sha256');
    await h.update([Buffer.from('abc')]);
    h.dispose();
    h.dispose();
    const d = pool.start('sha256');
    expect(await d.digest()).toBe(createHash('sha256').digest('hex'));
    expect(() => d.update([Buffer.from('x')])).toThrow('update after digest or dispose');
  });

  it('keeps all hashes within the staging budget, yet always lets a new hash make progress', async () => {
    const small = new HashWorkerPool({ maxWorkers: 1, buffersPerHash: 8, stagingBudgetBytes: 2 * 1024 * 1024 });
    try {
      const data = content(6 * 1024 * 1024, 3);
      const a = small.start('sha256');
      const b = small.start('sha256');
      // Synchronously (no ack can arrive yet): A takes the whole budget, then has to wait.
      const aFed = a.update([data]);
      expect(aFed).toBeInstanceOf(Promise);
      expect(small.stagedBytes).toBe(2 * 1024 * 1024);
      // B still gets its first buffer, beyond the budget, and goes on without waiting.
      expect(b.update([data.subarray(0, 1000)])).toBeUndefined();
      expect(small.stagedBytes).toBe(3 * 1024 * 1024);
      await aFed;
      await b.update([data.subarray(1000)]);
      const want = createHash('sha256').update(data).digest('hex');
      expect(await a.digest()).toBe(want);
      expect(await b.digest()).toBe(want);
      expect(small.stagedBytes).toBe(0);
    } finally {
      await small.close();
    }
  });

  it('fails a hash whose worker died instead of hanging', async () => {
    const lonely = new HashWorkerPool({ maxWorkers: 1 });
    const h = lonely.start('sha256');
    await h.update([Buffer.from('abc')]);
    await lonely.close();
    await expect(h.digest()).rejects.toThrow('hash worker failed');
  });
});

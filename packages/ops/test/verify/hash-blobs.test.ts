import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { linkSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { hashFile } from '@hfhpc/core';
import { checkBlobs } from '../../src/verify/index.js';
import { gitSha1, sha256 } from './cache-fixture.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'hfhpc-hash-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('hashFile', () => {
  it('gives git blob sha1 and sha256 as git and the LFS store compute them', async () => {
    const empty = path.join(dir, 'empty');
    writeFileSync(empty, '');
    expect((await hashFile({ path: empty, kind: 'git-sha1' })).hex).toBe('e69de29bb2d1d6434b8b29ae775ad8c2e48c5391');
    const hello = path.join(dir, 'hello');
    writeFileSync(hello, 'hello\n');
    // `printf 'hello\n' | git hash-object --stdin`
    expect((await hashFile({ path: hello, kind: 'git-sha1' })).hex).toBe('ce013625030ba8dba906f756967f9e9ca394464a');
    expect((await hashFile({ path: hello, kind: 'sha256' })).hex).toBe('5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03');
  });

  it('streams in chunks: a file larger than the chunk is read in several and counted exactly', async () => {
    const big = Buffer.alloc(3 * 65536 + 17, 7);
    const p = path.join(dir, 'big');
    writeFileSync(p, big);
    const chunks: number[] = [];
    const r = await hashFile({ path: p, kind: 'sha256', chunkSize: 65536, onBytes: (n) => chunks.push(n) });
    expect(r).toEqual({ hex: sha256(big), bytes: big.length });
    expect(chunks).toEqual([65536, 65536, 65536, 17]);
  });

  it('stops when aborted', async () => {
    const p = path.join(dir, 'f');
    writeFileSync(p, Buffer.alloc(1 << 20));
    await expect(hashFile({ path: p, kind: 'sha256', signal: AbortSignal.abort(new Error('stop')) })).rejects.toThrow('stop');
  });
});

describe('checkBlobs', () => {
  it('judges ok, missing, size and hash mismatches, and reads a hard-linked blob once', async () => {
    const good = Buffer.from('good bytes');
    const write = (name: string, b: Buffer | string): string => {
      const p = path.join(dir, name);
      writeFileSync(p, b);
      return p;
    };
    const a = write('a', good);
    const alias = path.join(dir, 'a-link');
    linkSync(a, alias);
    const short = write('short', 'abc');
    const flipped = write('flipped', 'good byteZ');
    const progress: number[] = [];
    const results = await checkBlobs({
      concurrency: 1,
      checks: [
        { path: a, kind: 'sha256', hex: sha256(good), size: good.length },
        { path: alias, kind: 'sha256', hex: sha256(good), size: good.length },
        { path: path.join(dir, 'gone'), kind: 'git-sha1', hex: gitSha1(good), size: good.length },
        { path: short, kind: 'git-sha1', hex: gitSha1(good), size: good.length },
        { path: flipped, kind: 'git-sha1', hex: gitSha1(good), size: good.length },
      ],
      onProgress: (p) => progress.push(p.bytesDone),
    });
    expect(results.map((r) => r.verdict.status)).toEqual(['ok', 'ok', 'missing', 'size-mismatch', 'hash-mismatch']);
    expect(results.map((r) => r.shared)).toEqual([false, true, false, false, false]);
    expect(results[4]?.verdict).toEqual({ status: 'hash-mismatch', actualHex: gitSha1(Buffer.from('good byteZ')) });
    // Bytes read: a once, flipped once; the alias counts as done without a read.
    expect(progress[progress.length - 1]).toBe(3 * good.length);
  });
});

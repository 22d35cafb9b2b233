// Generated content is a pure function of (seed, offset); hashes are right and cached.
import { afterAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { contentChunks, readContent, type ContentSource } from '../src/content/content-source.js';
import { HashCache } from '../src/content/hash-cache.js';
import { gitBlobSha1, hashContent, hashContentSync } from '../src/content/hash-content.js';
import { BLOCK_SIZE } from '../src/content/pool.js';
import { parseSize } from '../src/config/parse-size.js';
import { parseRange } from '../src/http/parse-range.js';

const gen = (seed: number, size: number): ContentSource => ({ kind: 'generated', seed, size });
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('generated content', () => {
  it('gives the same bytes for a range as the whole read, across block boundaries', () => {
    const src = gen(42, 3 * BLOCK_SIZE + 123);
    const whole = readContent({ source: src });
    expect(whole.length).toBe(3 * BLOCK_SIZE + 123);
    for (const [start, end] of [[0, 10], [BLOCK_SIZE - 5, BLOCK_SIZE + 5], [2 * BLOCK_SIZE + 7, 3 * BLOCK_SIZE + 123]]) {
      expect(readContent({ source: src, start, end }).equals(whole.subarray(start, end))).toBe(true);
    }
    for (const c of contentChunks({ source: src, start: 17 })) expect(c.length).toBeLessThanOrEqual(BLOCK_SIZE);
  });

  it('differs between seeds and between blocks of one file (not trivially periodic)', () => {
    const a = readContent({ source: gen(1, 2 * BLOCK_SIZE) });
    const b = readContent({ source: gen(2, 2 * BLOCK_SIZE) });
    expect(a.subarray(0, 4096).equals(b.subarray(0, 4096))).toBe(false);
    expect(a.subarray(0, 4096).equals(a.subarray(BLOCK_SIZE, BLOCK_SIZE + 4096))).toBe(false);
    // Looks random: every byte value appears.
    expect(new Set(a.subarray(0, 65536)).size).toBe(256);
  });

  it('is identical across calls (deterministic, no hidden state)', () => {
    expect(readContent({ source: gen(9, 5000) }).equals(readContent({ source: gen(9, 5000) }))).toBe(true);
  });
});

describe('hashes', () => {
  it('sha256 and git blob sha1 match node:crypto over the bytes, sync and async', async () => {
    const src = gen(5, BLOCK_SIZE + 99);
    const bytes = readContent({ source: src });
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const sha1 = createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
    expect(hashContentSync({ source: src, kind: 'sha256' })).toBe(sha256);
    expect(await hashContent({ source: src, kind: 'gitSha1', yieldEvery: 1000 })).toBe(sha1);
    expect(gitBlobSha1(Buffer.alloc(0))).toBe('e69de29bb2d1d6434b8b29ae775ad8c2e48c5391');
  });

  it('remembers big files in a per-machine cache file read by the next process', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fakehub-hash-'));
    dirs.push(dir);
    const src = gen(77, 200_000);
    const first = new HashCache({ dir, minDiskBytes: 100_000 });
    expect(first.peek(src, 'sha256')).toBeUndefined();
    const value = await first.get(src, 'sha256');
    expect(readdirSync(dir)).toEqual(['v1-77-200000.json']);
    const second = new HashCache({ dir, minDiskBytes: 100_000 });
    expect(second.peek(src, 'sha256')).toBe(value);
    // Small files stay in memory only.
    new HashCache({ dir, minDiskBytes: 100_000 }).getSync(gen(78, 1000), 'sha256');
    expect(existsSync(join(dir, 'v1-78-1000.json'))).toBe(false);
  });
});

describe('parsers', () => {
  it('parseSize reads bytes and unit strings', () => {
    expect(parseSize({ value: 10 })).toBe(10);
    expect(parseSize({ value: '40MiB' })).toBe(40 * 2 ** 20);
    expect(parseSize({ value: '1.5 GB' })).toBe(1.5e9);
    expect(parseSize({ value: '-1' })).toBeUndefined();
    expect(parseSize({ value: '3 parsecs' })).toBeUndefined();
  });

  it('parseRange follows RFC 9110 for single ranges', () => {
    expect(parseRange({ header: 'bytes=0-0', size: 10 })).toEqual({ kind: 'range', start: 0, end: 1 });
    expect(parseRange({ header: 'bytes=5-', size: 10 })).toEqual({ kind: 'range', start: 5, end: 10 });
    expect(parseRange({ header: 'bytes=-3', size: 10 })).toEqual({ kind: 'range', start: 7, end: 10 });
    expect(parseRange({ header: 'bytes=8-100', size: 10 })).toEqual({ kind: 'range', start: 8, end: 10 });
    expect(parseRange({ header: 'bytes=10-', size: 10 })).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange({ header: 'bytes=0-0', size: 0 })).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange({ header: 'bytes=0-1,3-4', size: 10 })).toEqual({ kind: 'multi' });
    expect(parseRange({ header: 'bytes=5-2', size: 10 })).toEqual({ kind: 'none' });
    expect(parseRange({ header: 'items=1-2', size: 10 })).toEqual({ kind: 'none' });
    expect(parseRange({ header: undefined, size: 10 })).toEqual({ kind: 'none' });
  });
});

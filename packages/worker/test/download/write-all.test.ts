import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeAll } from '../../src/download/write-all.js';

const dir = mkdtempSync(join(tmpdir(), 'hfhpc-write-all-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('writeAll', () => {
  it('finishes short writes: every byte lands at its offset, in order, across buffer boundaries', async () => {
    const file = join(dir, 'short');
    const handle = await open(file, 'w+');
    const calls: number[] = [];
    try {
      await handle.write(Buffer.from('head:'), 0);
      const parts = [Buffer.from('abcdefg'), Buffer.alloc(0), Buffer.from('hij'), Buffer.from('klmnopqrstuvwxyz')];
      // A disk that writes at most 5 bytes per call, as writev may.
      await writeAll(
        async (bufs, at) => {
          const first = Buffer.concat(bufs.map((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength))).subarray(0, 5);
          calls.push(at);
          return (await handle.write(first, 0, first.length, at)).bytesWritten;
        },
        parts,
        5,
      );
    } finally {
      await handle.close();
    }
    expect(readFileSync(file, 'utf8')).toBe('head:abcdefghijklmnopqrstuvwxyz');
    expect(calls).toEqual([5, 10, 15, 20, 25, 30]);
  });

  it('passes a write error through and writes nothing after it', async () => {
    let calls = 0;
    const err = Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
    await expect(
      writeAll(
        async () => {
          calls++;
          if (calls === 2) throw err;
          return 3;
        },
        [new Uint8Array(10)],
        0,
      ),
    ).rejects.toBe(err);
    expect(calls).toBe(2);
  });
});

import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { preflight } from '../src/preflight.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'hfhpc-preflight-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('preflight', () => {
  it('checks the nearest existing folder of a root that does not exist yet, on the real filesystem', async () => {
    const r = await preflight({ root: path.join(dir, 'a', 'b', 'root'), bytesToFetch: 1 });
    expect(r.checkedPath).toBe(dir);
    expect(r.freeBytes).toBeGreaterThan(1);
    expect(r.forcedPastShortage).toBe(false);
  });

  it('refuses a root that is not writable, even with --force', async () => {
    const access = async () => {
      throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
    };
    await expect(preflight({ root: path.join(dir, 'root'), bytesToFetch: 0, force: true, access })).rejects.toMatchObject({
      code: 'E_PREFLIGHT',
      exitCode: 2,
      message: `download root ${path.join(dir, 'root')} is not writable (checked ${dir})`,
    });
  });

  it('refuses a root below a file', async () => {
    await writeFile(path.join(dir, 'file'), 'x');
    await expect(preflight({ root: path.join(dir, 'file', 'root'), bytesToFetch: 0 })).rejects.toMatchObject({
      code: 'E_PREFLIGHT',
      message: expect.stringContaining('is not a folder'),
    });
  });

  it('compares free space (bigint statfs) with the bytes to fetch; --force lets it pass', async () => {
    const statfs = async () => ({ bavail: 1000n, bsize: 4096n });
    await expect(preflight({ root: dir, bytesToFetch: 4_096_001, statfs })).rejects.toMatchObject({
      code: 'E_PREFLIGHT',
      hint: expect.stringContaining('--force'),
    });
    expect(await preflight({ root: dir, bytesToFetch: 4_096_000, statfs })).toMatchObject({ freeBytes: 4_096_000, forcedPastShortage: false });
    expect(await preflight({ root: dir, bytesToFetch: 5e9, statfs, force: true })).toMatchObject({ forcedPastShortage: true });
  });
});

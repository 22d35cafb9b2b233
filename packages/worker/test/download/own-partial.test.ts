// The engine's own guard: an earlier partial that is a symlink is never a source to copy from
// (lstat, not stat), whatever the caller checked before. Real files in a temporary folder.
import { afterEach, describe, expect, it } from '@jest/globals';
import * as fsp from 'node:fs/promises';
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openOwnPartial } from '../../src/download/own-partial.js';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('openOwnPartial', () => {
  it('copies the longest regular earlier partial into a new file and removes the sources', async () => {
    dir = await mkdtemp(join(tmpdir(), 'hfhpc-own-partial-'));
    const older = join(dir, 'a.p1s0f1-aa.incomplete');
    const shorter = join(dir, 'a.incomplete');
    await writeFile(older, 'abcdef');
    await writeFile(shorter, 'abc');
    const mine = join(dir, 'a.p1s0f2-bb.incomplete');
    const own = await openOwnPartial({ fs: fsp, partialPath: mine, resumeFrom: [shorter, older], size: 100 });
    await own.handle.close();
    expect(own.copiedFrom).toBe(older);
    expect(await readFile(mine, 'utf8')).toBe('abcdef');
    expect((await fsp.readdir(dir)).sort()).toEqual(['a.p1s0f2-bb.incomplete']);
  });

  it('never copies through a symlink among the earlier partials: the file it points at is not read', async () => {
    dir = await mkdtemp(join(tmpdir(), 'hfhpc-own-partial-'));
    const outside = join(dir, 'outside.bin');
    await writeFile(outside, 'somebody else’s bytes');
    const planted = join(dir, 'a.incomplete');
    await symlink(outside, planted);
    const mine = join(dir, 'a.p1s0f2-bb.incomplete');
    const own = await openOwnPartial({ fs: fsp, partialPath: mine, resumeFrom: [planted], size: 100 });
    await own.handle.close();
    expect(own.copiedFrom).toBeUndefined();
    expect(await readFile(mine, 'utf8')).toBe('');
    expect(await readFile(outside, 'utf8')).toBe('somebody else’s bytes');
  });
});

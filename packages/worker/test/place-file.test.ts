import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, readdir, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { UnsafePathError, cacheLayout } from '@hfhpc/core';
import { placeSnapshotLink } from '../src/place-file.js';

const commit = 'a'.repeat(40);
const blob = 'b'.repeat(64);
let dir = '';
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('placeSnapshotLink', () => {
  it('creates the relative link, leaves a correct one alone and replaces a wrong one', async () => {
    dir = mkdtempSync(join(tmpdir(), 'hfhpc-place-'));
    const layout = cacheLayout(dir, 'bigcode/x');
    const p = { layout, repo: 'bigcode/x', commit, path: 'data/python/x.parquet', blob };
    const link = await placeSnapshotLink(p);
    expect(await readlink(link)).toBe(`../../../../blobs/${blob}`);
    await placeSnapshotLink(p);
    expect(await readlink(link)).toBe(`../../../../blobs/${blob}`);
    await placeSnapshotLink({ ...p, blob: 'c'.repeat(40) });
    expect(await readlink(link)).toBe(`../../../../blobs/${'c'.repeat(40)}`);
  });

  it('refuses to create folders through a symlink that leads out of the repo folder', async () => {
    dir = mkdtempSync(join(tmpdir(), 'hfhpc-place-'));
    const layout = cacheLayout(join(dir, 'root'), 'bigcode/x');
    const outside = join(dir, 'outside');
    await mkdir(outside, { recursive: true });
    await mkdir(layout.snapshotDir(commit), { recursive: true });
    await symlink(outside, join(layout.snapshotDir(commit), 'data'));
    await expect(placeSnapshotLink({ layout, repo: 'bigcode/x', commit, path: 'data/evil.txt', blob })).rejects.toBeInstanceOf(UnsafePathError);
    await writeFile(join(outside, 'keep'), '');
    expect(await readdir(outside)).toEqual(['keep']);
  });

  it('with a set of checked folders: checks each folder once, still replaces a wrong link, and makes a folder removed under it again', async () => {
    dir = mkdtempSync(join(tmpdir(), 'hfhpc-place-'));
    const layout = cacheLayout(dir, 'bigcode/x');
    const checkedDirs = new Set<string>();
    const p = { layout, repo: 'bigcode/x', commit, path: 'data/a.bin', blob, checkedDirs };
    const a = await placeSnapshotLink(p);
    expect([...checkedDirs]).toEqual([join(layout.snapshotDir(commit), 'data')]);
    const b = await placeSnapshotLink({ ...p, path: 'data/b.bin' });
    expect(checkedDirs.size).toBe(1);
    expect(await readlink(b)).toBe(`../../../blobs/${blob}`);
    await placeSnapshotLink({ ...p, blob: 'c'.repeat(40) });
    expect(await readlink(a)).toBe(`../../../blobs/${'c'.repeat(40)}`);
    await rm(join(layout.snapshotDir(commit), 'data'), { recursive: true });
    const c = await placeSnapshotLink({ ...p, path: 'data/c.bin' });
    expect(await readlink(c)).toBe(`../../../blobs/${blob}`);
  });

  it('with a set of checked folders: a new folder is still checked for symlinks leading out', async () => {
    dir = mkdtempSync(join(tmpdir(), 'hfhpc-place-'));
    const layout = cacheLayout(join(dir, 'root'), 'bigcode/x');
    const checkedDirs = new Set<string>();
    await placeSnapshotLink({ layout, repo: 'bigcode/x', commit, path: 'ok/a.bin', blob, checkedDirs });
    const outside = join(dir, 'outside');
    await mkdir(outside, { recursive: true });
    await symlink(outside, join(layout.snapshotDir(commit), 'evil'));
    await expect(placeSnapshotLink({ layout, repo: 'bigcode/x', commit, path: 'evil/x.txt', blob, checkedDirs })).rejects.toBeInstanceOf(UnsafePathError);
    expect(await readdir(outside)).toEqual([]);
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, readdir, readlink, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { CacheDirs, UnsafeCacheError, cacheLayout } from '@hfhpc/core';
import { placeSnapshotLink } from '../src/place-snapshot-link.js';

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

  it('refuses to create folders through a symlinked folder, even one leading inside the repo folder', async () => {
    dir = mkdtempSync(join(tmpdir(), 'hfhpc-place-'));
    const layout = cacheLayout(join(dir, 'root'), 'bigcode/x');
    const outside = join(dir, 'outside');
    await mkdir(outside, { recursive: true });
    await mkdir(layout.snapshotDir(commit), { recursive: true });
    await symlink(outside, join(layout.snapshotDir(commit), 'data'));
    await expect(placeSnapshotLink({ layout, repo: 'bigcode/x', commit, path: 'data/evil.txt', blob })).rejects.toThrow(UnsafeCacheError);
    expect(await readdir(outside)).toEqual([]);
    // A link that stays inside is not ours either: refused, not followed.
    await mkdir(join(layout.repoDir, 'elsewhere'));
    await symlink(join(layout.repoDir, 'elsewhere'), join(layout.snapshotDir(commit), 'inner'));
    await expect(placeSnapshotLink({ layout, repo: 'bigcode/x', commit, path: 'inner/x.txt', blob })).rejects.toThrow(/inner: it is a symlink .* that hfhpc did not create/);
    expect(await readdir(join(layout.repoDir, 'elsewhere'))).toEqual([]);
  });

  it('refuses a symlinked snapshots/ or repo folder (the whole way from the root is checked)', async () => {
    dir = mkdtempSync(join(tmpdir(), 'hfhpc-place-'));
    const root = join(dir, 'root');
    const layout = cacheLayout(root, 'bigcode/x');
    const outside = join(dir, 'outside');
    await mkdir(outside, { recursive: true });
    await mkdir(layout.repoDir, { recursive: true });
    await symlink(outside, layout.snapshotsDir);
    await expect(placeSnapshotLink({ layout, repo: 'bigcode/x', commit, path: 'a.txt', blob })).rejects.toThrow(UnsafeCacheError);
    await rm(layout.repoDir, { recursive: true });
    await symlink(outside, layout.repoDir);
    await expect(placeSnapshotLink({ layout, repo: 'bigcode/x', commit, path: 'a.txt', blob })).rejects.toMatchObject({ code: 'E_UNSAFE_CACHE', exitCode: 1, hint: expect.stringMatching(/^remove the link \(rm .*datasets--bigcode--x\).*allow_symlinked_dirs: \[repo_folder\]/) });
    expect(await readdir(outside)).toEqual([]);
    // With the opt-in, the repo folder may be a link (the operator's choice); below it, not.
    const dirs = new CacheDirs(root, { allowSymlinkedDirs: ['repo_folder'] });
    const link = await placeSnapshotLink({ layout, repo: 'bigcode/x', commit, path: 'a.txt', blob, dirs });
    expect(await readlink(link)).toBe(`../../blobs/${blob}`);
    expect(await readdir(outside)).toEqual(['snapshots']);
  });

  it('with a shard run\'s CacheDirs: checks each folder once, still replaces a wrong link, and makes a folder removed under it again', async () => {
    dir = mkdtempSync(join(tmpdir(), 'hfhpc-place-'));
    const layout = cacheLayout(dir, 'bigcode/x');
    const dirs = new CacheDirs(dir);
    const p = { layout, repo: 'bigcode/x', commit, path: 'data/a.bin', blob, dirs };
    const a = await placeSnapshotLink(p);
    // datasets--bigcode--x, snapshots, <commit>, data
    expect(dirs.checked).toBe(4);
    const b = await placeSnapshotLink({ ...p, path: 'data/b.bin' });
    expect(dirs.checked).toBe(4);
    expect(await readlink(b)).toBe(`../../../blobs/${blob}`);
    await placeSnapshotLink({ ...p, blob: 'c'.repeat(40) });
    expect(await readlink(a)).toBe(`../../../blobs/${'c'.repeat(40)}`);
    await rm(layout.snapshotsDir, { recursive: true });
    const c = await placeSnapshotLink({ ...p, path: 'data/c.bin' });
    expect(await readlink(c)).toBe(`../../../blobs/${blob}`);
  });

  it('with a shard run\'s CacheDirs: a new folder is still checked for symlinks', async () => {
    dir = mkdtempSync(join(tmpdir(), 'hfhpc-place-'));
    const layout = cacheLayout(join(dir, 'root'), 'bigcode/x');
    const dirs = new CacheDirs(join(dir, 'root'));
    await placeSnapshotLink({ layout, repo: 'bigcode/x', commit, path: 'ok/a.bin', blob, dirs });
    const outside = join(dir, 'outside');
    await mkdir(outside, { recursive: true });
    await symlink(outside, join(layout.snapshotDir(commit), 'evil'));
    await expect(placeSnapshotLink({ layout, repo: 'bigcode/x', commit, path: 'evil/x.txt', blob, dirs })).rejects.toThrow(UnsafeCacheError);
    expect(await readdir(outside)).toEqual([]);
  });
});

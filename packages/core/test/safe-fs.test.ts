// Containment helpers on a real filesystem: links planted at each cache folder and at files.
import { mkdtempSync, rmSync } from 'node:fs';
import { lstat, mkdir, readFile, readdir, readlink, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { constants } from 'node:fs';
import { CacheDirs, createExclusive, lstatOwnFile, openNoFollow, planSymlinkAllowance, writeNewFile } from '../src/safe-fs.js';
import { cacheLayout } from '../src/cache-layout.js';
import { writeRef, writeTree, writeFileAtomic } from '../src/cache-writer.js';
import { UnsafeCacheError, UnsafePathError } from '../src/errors.js';

let dir = '';
let root = '';
let outside = '';
const repo = 'bigcode/x';
const COMMIT = 'c'.repeat(40);
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hfhpc-safefs-'));
  root = join(dir, 'root');
  outside = join(dir, 'outside');
  await mkdir(root);
  await mkdir(outside);
  await writeFile(join(outside, 'precious'), 'keep me');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** The folder outside the root is exactly as the test left it. */
async function outsideUntouched(): Promise<void> {
  expect(await readdir(outside)).toEqual(['precious']);
  expect(await readFile(join(outside, 'precious'), 'utf8')).toBe('keep me');
}

describe('CacheDirs', () => {
  it('makes folders one level at a time, each once, and checks without creating', async () => {
    const l = cacheLayout(root, repo);
    const dirs = new CacheDirs(root);
    expect(await dirs.check(l.blobsDir)).toBe(false);
    expect(await readdir(root)).toEqual([]); // check creates nothing
    await dirs.ensure(join(l.snapshotDir(COMMIT), 'data', 'a'));
    expect((await lstat(join(l.snapshotDir(COMMIT), 'data', 'a'))).isDirectory()).toBe(true);
    expect(dirs.checked).toBe(5);
    await dirs.ensure(l.blobsDir);
    expect(dirs.checked).toBe(6);
    await dirs.ensure(l.blobsDir);
    expect(dirs.checked).toBe(6);
    expect(await new CacheDirs(root).check(l.blobsDir)).toBe(true);
  });

  it.each([
    ['the repo folder', (l: ReturnType<typeof cacheLayout>) => l.repoDir, 'repo_folder'],
    ['blobs/', (l: ReturnType<typeof cacheLayout>) => l.blobsDir, 'blobs'],
    ['snapshots/', (l: ReturnType<typeof cacheLayout>) => l.snapshotsDir, undefined],
    ['refs/', (l: ReturnType<typeof cacheLayout>) => l.refsDir, undefined],
    ['a snapshot subfolder', (l: ReturnType<typeof cacheLayout>) => join(l.snapshotDir(COMMIT), 'data'), undefined],
  ])('a symlink planted at %s is refused by ensure and check, with the fix; nothing lands outside', async (_what, at, kind) => {
    const l = cacheLayout(root, repo);
    const link = at(l);
    await mkdir(join(link, '..'), { recursive: true });
    await symlink(outside, link);
    const below = join(l.snapshotDir(COMMIT), 'data', 'deep');
    const target = link === l.blobsDir ? join(l.blobsDir, 'x') : link === l.refsDir ? join(l.refsDir, 'pr') : below;
    const err = (await new CacheDirs(root).ensure(target).catch((e: unknown) => e)) as UnsafeCacheError;
    expect(err).toBeInstanceOf(UnsafeCacheError);
    expect(err.exitCode).toBe(1);
    expect(err.message).toBe(`refusing ${link}: it is a symlink (to ${outside}) that hfhpc did not create; nothing was written through it`);
    expect(err.hint).toMatch(`remove the link (rm ${link}) and run again`);
    if (kind) expect(err.hint).toMatch(`allow_symlinked_dirs: [${kind}]`);
    else expect(err.hint).not.toMatch('allow_symlinked_dirs');
    await expect(new CacheDirs(root).check(target)).rejects.toThrow(UnsafeCacheError);
    await outsideUntouched();
  });

  it('a symlink planted at _hfhpc/plans is refused (it is not one of the folders an operator may link)', async () => {
    await mkdir(join(root, '_hfhpc'));
    await symlink(outside, join(root, '_hfhpc', 'plans'));
    const dirs = new CacheDirs(root, { allowSymlinkedDirs: ['blobs', 'repo_folder'] });
    await expect(dirs.ensure(join(root, '_hfhpc', 'plans', '1', 'logs'))).rejects.toThrow(/_hfhpc\/plans: it is a symlink/);
    await outsideUntouched();
  });

  it('a dangling link is refused too (mkdir would have created its target)', async () => {
    const l = cacheLayout(root, repo);
    await mkdir(l.repoDir);
    await symlink(join(outside, 'new'), l.blobsDir);
    await expect(new CacheDirs(root).ensure(l.blobsDir)).rejects.toThrow(UnsafeCacheError);
    await outsideUntouched();
  });

  it('a file where a folder belongs is refused', async () => {
    const l = cacheLayout(root, repo);
    await mkdir(l.repoDir);
    await writeFile(l.blobsDir, '');
    await expect(new CacheDirs(root).ensure(l.blobsDir)).rejects.toThrow(/blobs is not a folder/);
  });

  it('allow_symlinked_dirs: an opted-in link to a folder is used; below it, links are still refused', async () => {
    const l = cacheLayout(root, repo);
    await mkdir(l.repoDir);
    await symlink(outside, l.blobsDir);
    const dirs = new CacheDirs(root, { allowSymlinkedDirs: ['blobs'] });
    await dirs.ensure(l.blobsDir);
    expect(await dirs.check(l.blobsDir)).toBe(true);
    await dirs.ensure(join(l.blobsDir, 'sub'));
    expect(await readdir(outside)).toEqual(['precious', 'sub']);
    await symlink(dir, join(outside, 'sub', 'evil'));
    await expect(dirs.ensure(join(l.blobsDir, 'sub', 'evil', 'x'))).rejects.toThrow(UnsafeCacheError);
    // The opt-in names one folder: blobs/ allowed does not allow the repo folder, nor snapshots/.
    await symlink(outside, l.snapshotsDir);
    await expect(dirs.ensure(l.snapshotsDir)).rejects.toThrow(UnsafeCacheError);
    const other = cacheLayout(root, 'bigcode/y');
    await symlink(outside, other.repoDir);
    await expect(dirs.ensure(other.blobsDir)).rejects.toThrow(UnsafeCacheError);
  });

  it('allow_symlinked_dirs: an opted-in link that leads to no folder is refused', async () => {
    const l = cacheLayout(root, repo);
    await mkdir(l.repoDir);
    await symlink(join(outside, 'precious'), l.blobsDir);
    await expect(new CacheDirs(root, { allowSymlinkedDirs: ['blobs'] }).ensure(l.blobsDir)).rejects.toThrow(/does not lead to a folder/);
  });

  it('refuses a folder outside the root (a caller bug)', async () => {
    await expect(new CacheDirs(root).ensure(outside)).rejects.toThrow(UnsafePathError);
  });

  it('planSymlinkAllowance reads the plan options, dropping what it does not know', () => {
    expect(planSymlinkAllowance({ allowSymlinkedDirs: ['blobs', 'snapshots', 3] })).toEqual(['blobs']);
    expect(planSymlinkAllowance({})).toEqual([]);
    expect(planSymlinkAllowance(undefined)).toEqual([]);
  });
});

describe('file helpers', () => {
  it('createExclusive and writeNewFile: a link at the name is refused, an existing file is EEXIST', async () => {
    const link = join(root, 'x.incomplete');
    await symlink(join(outside, 'precious'), link);
    await expect(createExclusive(link)).rejects.toThrow(UnsafeCacheError);
    await expect(writeNewFile(link, 'dataset bytes')).rejects.toThrow(/x\.incomplete: it is a symlink/);
    const dangling = join(root, 'y.incomplete');
    await symlink(join(outside, 'new-file'), dangling);
    await expect(writeNewFile(dangling, 'dataset bytes')).rejects.toThrow(UnsafeCacheError);
    await outsideUntouched();
    await writeFile(join(root, 'z'), 'old');
    await expect(writeNewFile(join(root, 'z'), 'new')).rejects.toMatchObject({ code: 'EEXIST' });
    await writeNewFile(join(root, 'w'), 'new');
    expect(await readFile(join(root, 'w'), 'utf8')).toBe('new');
  });

  it('openNoFollow: reading or writing through a link at the name is refused', async () => {
    const link = join(root, 'partial');
    await symlink(join(outside, 'precious'), link);
    await expect(openNoFollow(link, constants.O_RDONLY)).rejects.toThrow(UnsafeCacheError);
    await expect(openNoFollow(link, constants.O_RDWR | constants.O_CREAT)).rejects.toThrow(UnsafeCacheError);
    await outsideUntouched();
    await writeFile(join(root, 'real'), 'abc');
    const fh = await openNoFollow(join(root, 'real'), constants.O_RDONLY);
    expect((await fh.stat()).size).toBe(3);
    await fh.close();
  });

  it('lstatOwnFile: stats of a file, undefined when missing, a link refused', async () => {
    await writeFile(join(root, 'f'), 'abc');
    expect((await lstatOwnFile(join(root, 'f')))?.size).toBe(3);
    expect(await lstatOwnFile(join(root, 'missing'))).toBeUndefined();
    await symlink(join(outside, 'precious'), join(root, 'l'));
    await expect(lstatOwnFile(join(root, 'l'))).rejects.toThrow(UnsafeCacheError);
  });
});

describe('refs, trees and other atomic writes', () => {
  it('writeRef refuses a planted refs/ folder or repo folder and writes nothing through it', async () => {
    const l = cacheLayout(root, repo);
    await mkdir(l.repoDir);
    await symlink(outside, l.refsDir);
    await expect(writeRef({ root, repo, revision: 'main', commit: COMMIT })).rejects.toThrow(UnsafeCacheError);
    await expect(writeTree({ root, repo: 'bigcode/y', commit: COMMIT, files: [] })).resolves.toBeDefined();
    await symlink(outside, cacheLayout(root, 'bigcode/z').repoDir);
    await expect(writeTree({ root, repo: 'bigcode/z', commit: COMMIT, files: [] })).rejects.toThrow(UnsafeCacheError);
    await outsideUntouched();
  });

  it('a link planted at refs/main itself is replaced by the file, its target untouched', async () => {
    const l = cacheLayout(root, repo);
    await mkdir(l.refsDir, { recursive: true });
    await symlink(join(outside, 'precious'), l.refPath('main'));
    await writeRef({ root, repo, revision: 'main', commit: COMMIT });
    expect((await lstat(l.refPath('main'))).isFile()).toBe(true);
    expect(await readFile(l.refPath('main'), 'utf8')).toBe(COMMIT);
    await outsideUntouched();
  });

  it('writeFileAtomic (status --output) replaces a link at the target instead of writing through it', async () => {
    const target = join(root, 'metrics.prom');
    await symlink(join(outside, 'precious'), target);
    await writeFileAtomic(target, 'hfhpc_up 1\n');
    expect(await readFile(target, 'utf8')).toBe('hfhpc_up 1\n');
    await expect(readlink(target)).rejects.toMatchObject({ code: 'EINVAL' });
    await outsideUntouched();
  });
});

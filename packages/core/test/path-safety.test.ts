import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { UnsafePathError } from '../src/errors.js';
import { assertNoSymlinkEscape, assertSafeRepoPath, isInside, repoPathProblem, safeJoin } from '../src/path-safety.js';

// Paths a hostile or broken repo could list. Each must be refused before touching the disk.
const HOSTILE: [string, string][] = [
  ['../etc/passwd', 'leading ..'],
  ['data/../../etc/passwd', '.. in the middle'],
  ['data/..', 'trailing ..'],
  ['..', 'bare ..'],
  ['./README.md', 'leading .'],
  ['data/./x', '. segment'],
  ['.', 'bare .'],
  ['/etc/passwd', 'absolute'],
  ['//server/share/x', 'UNC-like absolute'],
  ['data\\..\\..\\x', 'backslashes'],
  ['data\\x', 'single backslash'],
  ['C:/Windows/x', 'drive prefix'],
  ['c:x', 'drive-relative'],
  ['data/x\u0000.txt', 'NUL'],
  ['data/x\n.txt', 'newline'],
  ['data/x\r', 'carriage return'],
  ['data/\u001b[31mred', 'escape sequence'],
  ['data/x\u007f', 'DEL'],
  ['data/x\u0085', 'C1 control (NEL)'],
  ['data//x', 'empty segment'],
  ['data/', 'trailing slash'],
  ['', 'empty'],
  ['/', 'root'],
  [`data/${'a'.repeat(256)}`, 'segment over 255 bytes'],
  [`data/${'é'.repeat(128)}`, 'segment over 255 bytes in UTF-8'],
  [Array.from({ length: 900 }, () => 'abcd').join('/'), 'path over 4096 bytes'],
  ['data/\uFF0E\uFF0E/x', 'fullwidth dots fold to ..'],
  ['data\uFF0F..\uFF0Fx', 'fullwidth solidus folds to /'],
  ['data/x\uD800', 'lone surrogate'],
  ['\t', 'tab'],
];

// Odd but legitimate names real datasets have; all must pass unchanged.
const LEGIT = [
  'README.md',
  '.gitattributes',
  '.huggingface/config.json',
  'data/python/train-00000-of-00206.parquet',
  'data/with space/file name.jsonl',
  'data/c++/x+y.parquet',
  'data/c#/#hash.txt',
  'data/100%/a%20b.txt',
  'données/日本語/файл.jsonl.zst',
  'emoji/🎉.json',
  'a.b.c/..d/e..',
  '...',
  'data/v1.0/x.tar.gz',
  'de_meta/de_meta_part_1.jsonl.zst',
  'logs/2023-01-01T00:00:00.parquet',
  '-dash/_under/~tilde',
  `data/${'a'.repeat(255)}`,
];

describe('assertSafeRepoPath', () => {
  it(`has a table of at least 25 hostile paths (${HOSTILE.length})`, () => {
    expect(HOSTILE.length).toBeGreaterThanOrEqual(25);
  });

  it.each(HOSTILE)('refuses %j (%s)', (p) => {
    expect(() => assertSafeRepoPath(p, { repo: 'bigcode/x' })).toThrow(UnsafePathError);
  });

  it.each(LEGIT)('accepts %j', (p) => {
    expect(assertSafeRepoPath(p)).toBe(p);
    expect(repoPathProblem(p)).toBeUndefined();
  });

  it('names the repo and the path, exits 2', () => {
    let err: UnsafePathError | undefined;
    try {
      assertSafeRepoPath('../../.bashrc', { repo: 'bigcode/evil' });
    } catch (e) {
      err = e as UnsafePathError;
    }
    expect(err?.exitCode).toBe(2);
    expect(err?.message).toContain('bigcode/evil');
    expect(err?.message).toContain('"../../.bashrc"');
    expect(err?.message).toContain('..');
  });

  it('refuses non-strings', () => {
    expect(() => assertSafeRepoPath(42 as unknown as string)).toThrow(UnsafePathError);
  });
});

describe('safeJoin / isInside', () => {
  it('joins safe paths under the base', () => {
    expect(safeJoin('/r/snap', 'data/x.parquet')).toBe('/r/snap/data/x.parquet');
  });

  it.each(HOSTILE)('refuses %j', (p) => {
    expect(() => safeJoin('/r/snap', p)).toThrow(UnsafePathError);
  });

  it('tells inside from outside lexically', () => {
    expect(isInside('/a/b', '/a/b')).toBe(true);
    expect(isInside('/a/b', '/a/b/..c')).toBe(true);
    expect(isInside('/a/b', '/a/b/c/../d')).toBe(true);
    expect(isInside('/a/b', '/a/bc')).toBe(false);
    expect(isInside('/a/b', '/a/b/../c')).toBe(false);
    expect(isInside('/a/b', '/')).toBe(false);
  });
});

describe('assertNoSymlinkEscape (real filesystem)', () => {
  let tmp: string;
  let base: string;
  let outside: string;

  beforeAll(async () => {
    tmp = await realpath(await mkdtemp(path.join(os.tmpdir(), 'hfhpc-pathsafety-')));
    base = path.join(tmp, 'root');
    outside = path.join(tmp, 'outside');
    await mkdir(path.join(base, 'repo/blobs'), { recursive: true });
    await mkdir(path.join(base, 'repo/snapshots/c/data'), { recursive: true });
    await mkdir(outside);
    await writeFile(path.join(base, 'repo/blobs/b1'), 'x');
    // Inside links: a snapshot file to its blob, a folder link within the root.
    await symlink('../../../blobs/b1', path.join(base, 'repo/snapshots/c/data/ok.txt'));
    await symlink('repo/snapshots', path.join(base, 'snaps'));
    // Hostile links: a folder and a file leading out, a dangling link out, a loop.
    await symlink(outside, path.join(base, 'repo/snapshots/c/evil-dir'));
    await symlink(path.join(outside, 'target'), path.join(base, 'repo/snapshots/c/evil-file'));
    await symlink('../../../../../outside/nope/x', path.join(base, 'repo/snapshots/c/data/dangling-out'));
    await symlink('../../blobs/missing', path.join(base, 'repo/snapshots/c/dangling-in'));
    await symlink('loop-b', path.join(base, 'loop-a'));
    await symlink('loop-a', path.join(base, 'loop-b'));
  });

  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('accepts targets whose existing components stay inside', async () => {
    await expect(assertNoSymlinkEscape(base, path.join(base, 'repo/snapshots/c/data/new.txt'))).resolves.toBeUndefined();
    await expect(assertNoSymlinkEscape(base, path.join(base, 'repo/snapshots/c/data/ok.txt'))).resolves.toBeUndefined();
    await expect(assertNoSymlinkEscape(base, path.join(base, 'snaps/c/data/x'))).resolves.toBeUndefined();
    await expect(assertNoSymlinkEscape(base, path.join(base, 'not/yet/there'))).resolves.toBeUndefined();
    // A snapshot link whose blob is gone (being re-fetched) still points inside.
    await expect(assertNoSymlinkEscape(base, path.join(base, 'repo/snapshots/c/dangling-in'))).resolves.toBeUndefined();
  });

  it.each([
    ['a folder symlinked outside', 'repo/snapshots/c/evil-dir/x.parquet'],
    ['the target itself linked outside', 'repo/snapshots/c/evil-file'],
    ['a dangling link leading outside', 'repo/snapshots/c/data/dangling-out'],
    ['a symlink loop', 'loop-a/x'],
  ])('refuses %s', async (_what, rel) => {
    await expect(assertNoSymlinkEscape(base, path.join(base, rel), { repo: 'bigcode/x' })).rejects.toThrow(UnsafePathError);
  });

  it('refuses a target that is not under the base at all', async () => {
    await expect(assertNoSymlinkEscape(base, path.join(outside, 'x'))).rejects.toThrow(UnsafePathError);
    await expect(assertNoSymlinkEscape(base, path.join(base, '../outside/x'))).rejects.toThrow(/not inside/);
  });
});

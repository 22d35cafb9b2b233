import { describe, expect, it } from '@jest/globals';
import path from 'node:path';
import { UnsafePathError } from '../src/errors.js';
import { cacheLayout, isCommitSha, repoFolderName, stripEtag } from '../src/cache-layout.js';

const COMMIT = '0123456789abcdef0123456789abcdef01234567';
const SHA1 = 'e69de29bb2d1d6434b8b29ae775ad8c2e48c5391';
const SHA256 = 'a'.repeat(64);

describe('repoFolderName', () => {
  it('maps org/name to datasets--org--name', () => {
    expect(repoFolderName('bigcode/the-stack-dedup')).toBe('datasets--bigcode--the-stack-dedup');
    expect(repoFolderName('oscar-corpus/OSCAR-2301')).toBe('datasets--oscar-corpus--OSCAR-2301');
  });

  it('refuses ids that would make an ambiguous or escaping folder', () => {
    for (const repo of ['a--b/c', 'a/b/c', '../x', 'a/..']) expect(() => repoFolderName(repo)).toThrow(UnsafePathError);
  });
});

describe('cacheLayout', () => {
  const l = cacheLayout('/scratch/hf', 'bigcode/the-stack');
  const repoDir = '/scratch/hf/datasets--bigcode--the-stack';

  it('places blobs, partials, snapshots, refs and trees as huggingface_hub does', () => {
    expect(l.repoDir).toBe(repoDir);
    expect(l.blobPath(SHA256)).toBe(`${repoDir}/blobs/${SHA256}`);
    expect(l.blobPath(SHA1)).toBe(`${repoDir}/blobs/${SHA1}`);
    expect(l.incompletePath(SHA256)).toBe(`${repoDir}/blobs/${SHA256}.incomplete`);
    expect(l.snapshotDir(COMMIT)).toBe(`${repoDir}/snapshots/${COMMIT}`);
    expect(l.snapshotPath(COMMIT, 'data/python/x.parquet')).toBe(`${repoDir}/snapshots/${COMMIT}/data/python/x.parquet`);
    expect(l.refPath('main')).toBe(`${repoDir}/refs/main`);
    expect(l.refPath('refs/pr/1')).toBe(`${repoDir}/refs/refs/pr/1`);
    expect(l.treePath(COMMIT)).toBe(`${repoDir}/trees/${COMMIT}.json`);
  });

  it('resolves a relative root to an absolute one', () => {
    expect(path.isAbsolute(cacheLayout('rel/root', 'bigcode/x').repoDir)).toBe(true);
  });

  it.each([
    ['README.md', `../../blobs/${SHA1}`],
    ['data/x.parquet', `../../../blobs/${SHA1}`],
    ['data/python/x.parquet', `../../../../blobs/${SHA1}`],
  ])('links %p to its blob with %p', (file, target) => {
    expect(l.blobLinkTarget(file, SHA1)).toBe(target);
    // The link, resolved from its own folder, lands exactly on the blob.
    expect(path.resolve(path.dirname(l.snapshotPath(COMMIT, file)), target)).toBe(l.blobPath(SHA1));
  });

  it('refuses hostile etags, commits, revisions and paths', () => {
    const bad: (() => unknown)[] = [
      () => l.blobPath('../../x'),
      () => l.blobPath('abc'),
      () => l.blobPath(SHA1.toUpperCase()),
      () => l.incompletePath(`${SHA1}/x`),
      () => l.snapshotDir('main'),
      () => l.snapshotDir(`../${COMMIT.slice(3)}`),
      () => l.snapshotPath(COMMIT, '../../../x'),
      () => l.blobLinkTarget('/etc/passwd', SHA1),
      () => l.refPath('../../x'),
      () => l.refPath('refs/../../x'),
      () => l.refPath(''),
      () => l.refPath('a//b'),
      () => l.refPath('/abs'),
      () => l.treePath('x'),
    ];
    for (const f of bad) expect(f).toThrow(UnsafePathError);
  });
});

describe('stripEtag / isCommitSha', () => {
  it.each([
    ['W/"abc"', 'abc'],
    ['"abc"', 'abc'],
    ['abc', 'abc'],
    [` "${SHA256}" `, SHA256],
    ['w/"x"', 'x'],
  ])('%p → %p', (input, out) => {
    expect(stripEtag(input)).toBe(out);
  });

  it('tells commit shas from branch names', () => {
    expect(isCommitSha(COMMIT)).toBe(true);
    expect(isCommitSha('main')).toBe(false);
    expect(isCommitSha(COMMIT.toUpperCase())).toBe(false);
    expect(isCommitSha(COMMIT.slice(1))).toBe(false);
  });
});

import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeRef, writeTree } from '../src/cache-writer.js';

const COMMIT = 'a'.repeat(40);
const repo = 'org/name';
let root: string;
let repoDir: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'hfhpc-cw-'));
  repoDir = join(root, 'datasets--org--name');
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('writeRef', () => {
  it('writes the commit without a newline, nested for names with slashes, and overwrites', async () => {
    expect(await writeRef({ root, repo, revision: 'main', commit: COMMIT })).toBe(join(repoDir, 'refs', 'main'));
    expect(await readFile(join(repoDir, 'refs', 'main'), 'utf8')).toBe(COMMIT);
    await writeRef({ root, repo, revision: 'refs/pr/1', commit: COMMIT });
    expect(await readFile(join(repoDir, 'refs', 'refs', 'pr', '1'), 'utf8')).toBe(COMMIT);
    await writeRef({ root, repo, revision: 'main', commit: 'b'.repeat(40) });
    expect(await readFile(join(repoDir, 'refs', 'main'), 'utf8')).toBe('b'.repeat(40));
    expect(await readdir(join(repoDir, 'refs'))).toEqual(['main', 'refs']); // no temp files left
  });

  it('writes nothing when the revision is already a commit sha', async () => {
    expect(await writeRef({ root, repo, revision: COMMIT, commit: COMMIT })).toBeUndefined();
    await expect(readdir(join(repoDir, 'refs'))).rejects.toThrow(/ENOENT/);
  });

  it('refuses revisions that would leave refs/ and malformed commits', async () => {
    for (const revision of ['../../x', 'a/../b', 'a//b', 'a\\b', 'C:x', '/etc/x']) {
      await expect(writeRef({ root, repo, revision, commit: COMMIT })).rejects.toMatchObject({ code: 'E_UNSAFE_PATH' });
    }
    await expect(writeRef({ root, repo, revision: 'main', commit: 'main' })).rejects.toMatchObject({ code: 'E_UNSAFE_PATH' });
  });
});

describe('writeTree', () => {
  it('writes format_version 1 with sorted file keys, LFS fields only for LFS files', async () => {
    const path = await writeTree({
      root,
      repo,
      commit: COMMIT,
      files: [
        { path: 'data/x.parquet', size: 5288569, oid: '1'.repeat(40), lfsSha256: 'f'.repeat(64) },
        { path: 'README.md', size: 116, oid: '2'.repeat(40) },
      ],
    });
    expect(path).toBe(join(repoDir, 'trees', `${COMMIT}.json`));
    const text = await readFile(path, 'utf8');
    const json = JSON.parse(text);
    expect(json).toEqual({
      format_version: 1,
      files: {
        'README.md': { size: 116, blob_id: '2'.repeat(40) },
        'data/x.parquet': { size: 5288569, blob_id: '1'.repeat(40), lfs_sha256: 'f'.repeat(64), lfs_size: 5288569 },
      },
    });
    expect(Object.keys(json.files)).toEqual(['README.md', 'data/x.parquet']);
    expect(await readdir(join(repoDir, 'trees'))).toEqual([`${COMMIT}.json`]);
  });
});

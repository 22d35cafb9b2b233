import { afterEach, describe, expect, it } from '@jest/globals';
import { closeSync, cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync, symlinkSync, unlinkSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cacheLayout, UnsafeCacheError, UsageError } from '@hfhpc/core';
import { runVerify } from '../../src/verify/index.js';
import { makeCache, sha256, type CacheFixture } from './cache-fixture.js';

const A = 'bigcode/the-stack-mini';
const B = 'codeparrot/code-mini';
let fx: CacheFixture | undefined;
afterEach(() => fx?.cleanup());

function fixture(): CacheFixture {
  return makeCache({
    files: [
      { repo: A, path: 'README.md', content: '# mini\n', shard: 0 },
      { repo: A, path: 'data/python/a.parquet', content: 'A'.repeat(5000), lfs: true, shard: 0 },
      { repo: A, path: 'data/python/b.parquet', content: 'B'.repeat(7000), lfs: true, shard: 1 },
      { repo: A, path: 'data/go/c.parquet', content: 'C'.repeat(3000), lfs: true, shard: 1 },
      { repo: A, path: 'data/copy-of-a.parquet', content: 'A'.repeat(5000), lfs: true, shard: 0 },
      { repo: A, path: 'data/later.parquet', content: 'L'.repeat(100), lfs: true, shard: 1, state: 'pending' },
      { repo: B, path: 'data/x.jsonl', content: '{"x":1}\n', shard: 2 },
    ],
  });
}

const state = (f: CacheFixture, repo: string, p: string): string =>
  (f.store.db.prepare('SELECT state FROM files WHERE id = ?').get(f.fileId(repo, p)) as { state: string }).state;

describe('runVerify', () => {
  it('passes a clean cache, records each blob, and re-hashes nothing unchanged next time unless forced', async () => {
    const f = (fx = fixture());
    const first = await runVerify({ store: f.store, root: f.root, concurrency: 2 });
    const blobBytes = 7 + 5000 + 7000 + 3000 + 8;
    expect(first).toMatchObject({ plan_id: f.planId, files_checked: 6, blobs_checked: 5, blobs_hashed: 5, bytes_hashed: blobBytes, files_ok: 6, files_skipped: 0, files_not_done: 1, bad: [], unplanned_blobs: [] });
    expect(f.store.db.prepare("SELECT COUNT(*) FROM blob_verifications WHERE source = 'verify'").pluck().get()).toBe(5);
    const again = await runVerify({ store: f.store, root: f.root });
    // Every file is still checked (stat and link), none is read.
    expect(again).toMatchObject({ files_checked: 6, blobs_checked: 5, blobs_hashed: 0, bytes_hashed: 0, files_ok: 6, files_skipped: 6, bad: [] });
    const forced = await runVerify({ store: f.store, root: f.root, force: true, dataset: B });
    expect(forced).toMatchObject({ files_checked: 1, blobs_hashed: 1, bytes_hashed: 8, files_ok: 1, files_skipped: 0 });
  });

  it('finds damage done after a verify: bytes overwritten in place (mtime put back) and a blob replaced by 7 bytes', async () => {
    const f = (fx = fixture());
    expect((await runVerify({ store: f.store, root: f.root })).bad).toEqual([]);
    // 14 bytes overwritten inside one blob; its mtime restored, so only size-and-mtime would miss it.
    const hit = f.blobPath(A, 'data/go/c.parquet');
    const before = statSync(hit);
    const fd = openSync(hit, 'r+');
    writeSync(fd, Buffer.from('fourteen bytes'), 0, 14, 100);
    closeSync(fd);
    utimesSync(hit, before.atime, before.mtime);
    // Another blob replaced by a 7-byte file (a new inode).
    const small = f.blobPath(A, 'data/python/b.parquet');
    rmSync(small);
    writeFileSync(small, 'garbage');

    const r = await runVerify({ store: f.store, root: f.root });
    expect(r.bad.map((b) => [b.path, b.problem]).sort()).toEqual([
      ['data/go/c.parquet', 'hash-mismatch'],
      ['data/python/b.parquet', 'size-mismatch'],
    ]);
    expect(r).toMatchObject({ blobs_hashed: 1, bytes_hashed: 3000, files_ok: 4, files_skipped: 4 });
    expect(state(f, A, 'data/go/c.parquet')).toBe('pending');
    expect(state(f, A, 'data/python/b.parquet')).toBe('pending');
    // Nothing is trusted about a bad blob any more.
    const recorded = f.store.db.prepare('SELECT blob FROM blob_verifications').pluck().all() as string[];
    expect(recorded).not.toContain(f.blobOf(A, 'data/go/c.parquet'));
    expect(recorded).not.toContain(f.blobOf(A, 'data/python/b.parquet'));
  });

  it('reports a corrupt blob, a missing blob and a broken link; moves the corrupt blob away and puts the files back to pending', async () => {
    const f = (fx = fixture());
    // Same size, different bytes: the worker would trust it (it checks sizes), a loader would read it.
    const corrupt = f.blobPath(A, 'data/python/a.parquet');
    writeFileSync(corrupt, 'X'.repeat(5000));
    unlinkSync(f.blobPath(A, 'data/python/b.parquet'));
    unlinkSync(f.linkPath(B, 'data/x.jsonl'));
    symlinkSync('../../blobs/0000000000000000000000000000000000000000', f.linkPath(B, 'data/x.jsonl'));
    // A blob no planned file names.
    const stray = path.join(cacheLayout(f.root, A).blobsDir, sha256(Buffer.from('stray')));
    writeFileSync(stray, 'stray');

    const r = await runVerify({ store: f.store, root: f.root, concurrency: 3 });
    const bad = Object.fromEntries(r.bad.map((b) => [`${b.repo}:${b.path}`, b]));
    expect(Object.keys(bad).sort()).toEqual([`${A}:data/copy-of-a.parquet`, `${A}:data/python/a.parquet`, `${A}:data/python/b.parquet`, `${B}:data/x.jsonl`].sort());
    expect(bad[`${A}:data/python/a.parquet`]).toMatchObject({ problem: 'hash-mismatch' });
    expect(bad[`${A}:data/python/a.parquet`]?.detail).toContain(`the plan says ${f.blobOf(A, 'data/python/a.parquet')}`);
    expect(bad[`${A}:data/python/b.parquet`]).toMatchObject({ problem: 'missing', quarantined_to: null });
    expect(bad[`${B}:data/x.jsonl`]).toMatchObject({ problem: 'broken-link' });
    expect(r.files_ok).toBe(2);
    expect(r.unplanned_blobs).toEqual([{ repo: A, path: path.relative(f.root, stray), size: 5 }]);

    // Nothing corrupt is left where a snapshot link points; the bytes are kept for inspection.
    expect(existsSync(corrupt)).toBe(false);
    const moved = bad[`${A}:data/python/a.parquet`]?.quarantined_to as string;
    expect(moved.startsWith(path.join(f.root, '_hfhpc', 'quarantine'))).toBe(true);
    expect(readFileSync(moved, 'utf8')).toBe('X'.repeat(5000));

    for (const p of ['data/python/a.parquet', 'data/copy-of-a.parquet', 'data/python/b.parquet']) expect(state(f, A, p)).toBe('pending');
    expect(state(f, B, 'data/x.jsonl')).toBe('pending');
    expect(state(f, A, 'README.md')).toBe('done');
    const shards = f.store.db.prepare('SELECT idx, state FROM shards ORDER BY idx').all();
    expect(shards).toEqual([
      { idx: 0, state: 'pending' },
      { idx: 1, state: 'pending' },
      { idx: 2, state: 'pending' },
    ]);
    const reasons = f.store.db.prepare("SELECT last_error FROM files WHERE state = 'pending' AND last_error IS NOT NULL").pluck().all() as string[];
    expect(reasons.every((x) => x.startsWith('verify: '))).toBe(true);
  });

  it('refuses an unknown dataset with the plan\'s repos in the hint', async () => {
    const f = (fx = fixture());
    const err = await runVerify({ store: f.store, root: f.root, dataset: 'bigcode/nope' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).hint).toContain(A);
  });

  it('finds a verified blob that was deleted since', async () => {
    const f = (fx = fixture());
    await runVerify({ store: f.store, root: f.root });
    rmSync(f.blobPath(A, 'README.md'));
    const r = await runVerify({ store: f.store, root: f.root });
    expect(r).toMatchObject({ files_checked: 6, bytes_hashed: 0 });
    expect(r.bad.map((b) => [b.path, b.problem])).toEqual([['README.md', 'missing']]);
  });

  it('never reads or moves blobs through a planted link: a symlinked blobs/ or _hfhpc/quarantine is refused', async () => {
    const f = (fx = fixture());
    const outside = mkdtempSync(path.join(tmpdir(), 'hfhpc-outside-'));
    try {
      // blobs/ moved outside and linked back: verify refuses it before hashing anything.
      const blobs = cacheLayout(f.root, A).blobsDir;
      cpSync(blobs, path.join(outside, 'blobs'), { recursive: true });
      rmSync(blobs, { recursive: true });
      symlinkSync(path.join(outside, 'blobs'), blobs);
      const before = readdirSync(path.join(outside, 'blobs')).sort();
      await expect(runVerify({ store: f.store, root: f.root, dataset: A })).rejects.toThrow(/blobs: it is a symlink .* that hfhpc did not create/);
      expect(readdirSync(path.join(outside, 'blobs')).sort()).toEqual(before);
      rmSync(blobs);
      renameSync(path.join(outside, 'blobs'), blobs);

      // A corrupt blob must go to _hfhpc/quarantine, which is a planted link: refused, blob kept.
      writeFileSync(f.blobPath(A, 'data/python/a.parquet'), 'X'.repeat(5000));
      mkdirSync(path.join(f.root, '_hfhpc'), { recursive: true });
      symlinkSync(outside, path.join(f.root, '_hfhpc', 'quarantine'));
      await expect(runVerify({ store: f.store, root: f.root, dataset: A })).rejects.toThrow(UnsafeCacheError);
      expect(readdirSync(outside)).toEqual([]);
      expect(readFileSync(f.blobPath(A, 'data/python/a.parquet'), 'utf8')).toBe('X'.repeat(5000));
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });
});

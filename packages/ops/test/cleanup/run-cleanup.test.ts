import { afterEach, describe, expect, it } from '@jest/globals';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { UnsafeCacheError, appendEvent, cacheLayout, claimShard, partialTag } from '@hfhpc/core';
import { runCleanup } from '../../src/cleanup/index.js';
import { quarantineDir } from '../../src/verify/index.js';
import { makeCache, type CacheFixture } from '../verify/cache-fixture.js';

const A = 'bigcode/the-stack-mini';
let fx: CacheFixture | undefined;
afterEach(() => fx?.cleanup());

/**
 * Shard 0: leased by a task that died (lease expired), one pending file with a partial.
 * Shard 1: leased by a live task, one pending file with a partial being written.
 * Shard 2: done; a stale partial of its blob is left over. Plus a partial of no planned blob,
 * a partial named by another tool, and complete blobs.
 */
function scene() {
  const f = (fx = makeCache({
    files: [
      { repo: A, path: 'dead.parquet', content: 'd'.repeat(4000), lfs: true, shard: 0, state: 'pending' },
      { repo: A, path: 'live.parquet', content: 'l'.repeat(4000), lfs: true, shard: 1, state: 'pending' },
      { repo: A, path: 'done.parquet', content: 'k'.repeat(4000), lfs: true, shard: 2 },
    ],
  }));
  claimShard(f.store, { planId: f.planId, owner: '77_0@dead-node:1', preferIndex: 0, ttlMs: 1_000 });
  f.clock.t += 5_000;
  claimShard(f.store, { planId: f.planId, owner: '77_1@live-node:2', preferIndex: 1, ttlMs: 600_000, steal: false });
  const blobs = cacheLayout(f.root, A);
  const partial = (blob: string, bytes: number): string => {
    const p = blobs.incompletePath(blob);
    writeFileSync(p, Buffer.alloc(bytes, 1));
    return p;
  };
  mkdirSync(blobs.blobsDir, { recursive: true });
  const paths = {
    dead: partial(f.blobOf(A, 'dead.parquet'), 1500),
    live: partial(f.blobOf(A, 'live.parquet'), 2500),
    stale: partial(f.blobOf(A, 'done.parquet'), 100),
    stray: partial('f'.repeat(64), 300),
    foreign: path.join(blobs.blobsDir, `${'e'.repeat(64)}.0a1b2c3d.incomplete`),
    complete: f.blobPath(A, 'done.parquet'),
  };
  writeFileSync(paths.foreign, 'x');
  return { f, paths };
}

describe('runCleanup', () => {
  it('--dry-run reports and changes nothing', async () => {
    const { f, paths } = scene();
    const r = await runCleanup({ store: f.store, root: f.root, dryRun: true });
    expect(r.expired_leases).toEqual([{ shard: 0, plan_id: f.planId, owner: '77_0@dead-node:1', expired_at: expect.any(String) }]);
    expect(r.partials.filter((p) => p.removed).map((p) => path.basename(p.path)).sort()).toEqual([path.basename(paths.stale), path.basename(paths.stray)].sort());
    for (const p of Object.values(paths)) expect(existsSync(p)).toBe(true);
    expect(f.store.db.prepare('SELECT COUNT(*) FROM leases').pluck().get()).toBe(2);
  });

  it('expires the dead lease, removes orphaned partials, keeps live and resumable ones and every complete blob', async () => {
    const { f, paths } = scene();
    appendEvent(f.store, { kind: 'ancient' });
    appendEvent(f.store, { kind: 'verified', planId: f.planId, fileId: f.fileId(A, 'done.parquet') });
    const quarantined = path.join(quarantineDir(f.root), 'datasets--bigcode--the-stack-mini', `${'a'.repeat(64)}.1`);
    mkdirSync(path.dirname(quarantined), { recursive: true });
    writeFileSync(quarantined, 'corrupt');
    f.clock.t += 40 * 86_400_000 - 600_000; // the live lease is renewed by its task meanwhile
    f.store.db.prepare('UPDATE leases SET expires_at = ? WHERE owner LIKE ?').run(f.clock.t + 60_000, '77_1@%');
    const r = await runCleanup({ store: f.store, root: f.root });
    expect(r.expired_leases.map((l) => l.shard)).toEqual([0]);
    const verdicts = Object.fromEntries(r.partials.map((p) => [p.path, [p.verdict, p.removed]]));
    expect(verdicts).toEqual({
      [paths.dead]: ['resumable', false],
      [paths.live]: ['in-use', false],
      [paths.stale]: ['orphan', true],
      [paths.stray]: ['orphan', true],
    });
    expect(r.bytes_freed).toBe(400 + 7);
    expect(r.quarantine_removed).toEqual([path.relative(f.root, quarantined)]);
    expect(existsSync(quarantined)).toBe(false);
    expect(existsSync(paths.stale)).toBe(false);
    expect(existsSync(paths.stray)).toBe(false);
    for (const p of [paths.dead, paths.live, paths.foreign, paths.complete]) expect(existsSync(p)).toBe(true);
    expect(f.store.db.prepare('SELECT idx, state FROM shards ORDER BY idx').all()).toEqual([
      { idx: 0, state: 'pending' },
      { idx: 1, state: 'running' },
      { idx: 2, state: 'done' },
    ]);
    expect(f.store.db.prepare("SELECT COUNT(*) FROM events WHERE kind = 'ancient'").pluck().get()).toBe(0);
    expect(f.store.db.prepare("SELECT COUNT(*) FROM events WHERE kind = 'verified'").pluck().get()).toBe(1);
    expect(r.events_pruned).toBeGreaterThan(0);
  });

  it('--remove-resumable also removes partials nobody holds, never the live one', async () => {
    const { f, paths } = scene();
    const r = await runCleanup({ store: f.store, root: f.root, removeResumable: true });
    expect(existsSync(paths.dead)).toBe(false);
    expect(existsSync(paths.live)).toBe(true);
    expect(r.partials.find((p) => p.path === paths.dead)).toMatchObject({ verdict: 'resumable', removed: true });
  });

  it('tells a dead writer from a live one: on this host by its pid, elsewhere by the lease expiry; a claim’s partial is in use only under that very claim', async () => {
    const f = (fx = makeCache({
      files: [
        { repo: A, path: 'gone.parquet', content: 'g'.repeat(4000), lfs: true, shard: 0, state: 'pending' },
        { repo: A, path: 'here.parquet', content: 'h'.repeat(4000), lfs: true, shard: 1, state: 'pending' },
        { repo: A, path: 'far.parquet', content: 'r'.repeat(4000), lfs: true, shard: 2, state: 'pending' },
      ],
    }));
    const host = 'this-node';
    const gone = claimShard(f.store, { planId: f.planId, owner: `local@${host}:4001`, preferIndex: 0, ttlMs: 600_000, steal: false })!;
    const here = claimShard(f.store, { planId: f.planId, owner: `local@${host}:4002`, preferIndex: 1, ttlMs: 600_000, steal: false })!;
    const far = claimShard(f.store, { planId: f.planId, owner: `local@other-node:4001`, preferIndex: 2, ttlMs: 600_000, steal: false })!;
    const blobs = cacheLayout(f.root, A);
    mkdirSync(blobs.blobsDir, { recursive: true });
    const partial = (file: string, claim: { planId: number; index: number; fence: number }, extra = ''): string => {
      const p = blobs.incompletePath(f.blobOf(A, file), `${partialTag(claim, 'ab12')}${extra}`);
      writeFileSync(p, Buffer.alloc(1000, 1));
      return p;
    };
    const paths = {
      gone: partial('gone.parquet', gone),
      here: partial('here.parquet', here),
      hereOlder: partial('here.parquet', { ...here, fence: here.fence - 1 }),
      far: partial('far.parquet', far),
      aside: partial('here.parquet', here, '.aside-0011aabb'),
    };
    const r = await runCleanup({ store: f.store, root: f.root, host, isPidAlive: (pid) => pid === 4002 });
    expect(r.expired_leases).toEqual([{ shard: 0, plan_id: f.planId, owner: `local@${host}:4001`, expired_at: expect.any(String), holder_gone: true }]);
    const verdicts = Object.fromEntries(r.partials.map((p) => [p.path, [p.verdict, p.removed]]));
    expect(verdicts).toEqual({
      [paths.gone]: ['resumable', false],
      [paths.here]: ['in-use', false],
      [paths.hereOlder]: ['resumable', false],
      [paths.far]: ['in-use', false],
      [paths.aside]: ['orphan', true],
    });
    expect(f.store.db.prepare('SELECT idx, state FROM shards ORDER BY idx').all()).toEqual([
      { idx: 0, state: 'pending' },
      { idx: 1, state: 'running' },
      { idx: 2, state: 'running' },
    ]);
  });

  it('never deletes through a planted link: a symlinked _hfhpc/quarantine is refused, a symlinked blobs/ is not walked', async () => {
    const { f } = scene();
    const outside = mkdtempSync(path.join(tmpdir(), 'hfhpc-outside-'));
    try {
      writeFileSync(path.join(outside, 'precious'), 'keep me');
      mkdirSync(path.join(f.root, '_hfhpc'), { recursive: true });
      symlinkSync(outside, quarantineDir(f.root));
      await expect(runCleanup({ store: f.store, root: f.root })).rejects.toThrow(UnsafeCacheError);
      expect(readdirSync(outside)).toEqual(['precious']);
      rmSync(quarantineDir(f.root));
      // A repo folder whose blobs/ is a link: its "partials" outside are not ours to delete.
      const other = cacheLayout(f.root, 'bigcode/other');
      mkdirSync(other.repoDir, { recursive: true });
      writeFileSync(path.join(outside, `${'a'.repeat(64)}.incomplete`), 'not ours');
      symlinkSync(outside, other.blobsDir);
      const r = await runCleanup({ store: f.store, root: f.root });
      expect(r.partials.some((p) => p.repoFolder === path.basename(other.repoDir))).toBe(false);
      expect(readdirSync(outside).sort()).toEqual([`${'a'.repeat(64)}.incomplete`, 'precious']);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });
});

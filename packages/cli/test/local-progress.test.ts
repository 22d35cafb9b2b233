// readLocalProgress: the totals the run --local bar shows, from a real SQLite file; a locked
// database is given up on quickly (the caller forwards stop signals on the same thread).
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import { StateError, createPlan, markFileDone, claimShard, openStore, type Store } from '@hfhpc/core';
import { readLocalProgress } from '../src/local-progress.js';

interface FixtureFile {
  repo: string;
  path: string;
  content: Buffer;
  shard?: number;
  state?: 'pending' | 'done';
}

const gitSha1 = (b: Buffer): string => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');

// A real state database with one plan over these files (no content on disk: only counters are read).
function planFixture(files: FixtureFile[], opts: { shards?: number } = {}): { dbPath: string; store: Store; planId: number; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'hfhpc-cli-'));
  const root = join(dir, 'root');
  const dbPath = join(root, '_hfhpc', 'state.sqlite');
  const store = openStore({ path: dbPath });
  const planFiles = files.map((f) => ({
    datasetRepo: f.repo, path: f.path, size: f.content.length, oid: gitSha1(f.content), lfsSha256: null,
    blob: gitSha1(f.content), shardIdx: f.shard ?? 0, state: f.state ?? ('pending' as const),
  }));
  const planId = createPlan(store, {
    manifestPath: join(dir, 'm.yaml'),
    manifestSha256: 'ab'.repeat(32),
    root,
    hubUrl: 'http://127.0.0.1:9',
    datasets: [...new Set(files.map((f) => f.repo))].map((repo) => ({ repo, revision: 'main', commitSha: 'cd'.repeat(20) })),
    shards: Array.from({ length: opts.shards ?? 1 }, (_, idx) => {
      const mine = planFiles.filter((f) => f.shardIdx === idx);
      return { idx, bytesTotal: mine.reduce((s, f) => s + f.size, 0), filesTotal: mine.length };
    }),
    files: planFiles,
  });
  return { dbPath, store, planId, cleanup: () => (store.close(), rmSync(dir, { recursive: true, force: true })) };
}

describe('readLocalProgress', () => {
  it('sums files and bytes of every shard, done files included', () => {
    const fx = planFixture(
      [
        { repo: 'bigcode/a', path: 'x', content: Buffer.alloc(100, 1), shard: 0 },
        { repo: 'bigcode/a', path: 'y', content: Buffer.alloc(50, 2), shard: 1 },
        { repo: 'bigcode/a', path: 'z', content: Buffer.alloc(30, 3), shard: 1, state: 'done' },
      ],
      { shards: 2 },
    );
    try {
      const claim = claimShard(fx.store, { planId: fx.planId, owner: 't@h:1', preferIndex: 0, ttlMs: 60_000 })!;
      const fileId = (fx.store.db.prepare("SELECT id FROM files WHERE path = 'x'").get() as { id: number }).id;
      markFileDone(fx.store, claim, { fileId });
      expect(readLocalProgress({ dbPath: fx.dbPath, planId: fx.planId })).toEqual({ filesDone: 2, filesFailed: 0, filesTotal: 3, bytesDone: 130, bytesTotal: 180 });
    } finally {
      fx.cleanup();
    }
  });

  it('gives up on a locked database after waitMs with a StateError instead of waiting the busy timeout', () => {
    const fx = planFixture([{ repo: 'bigcode/a', path: 'x', content: Buffer.alloc(10, 1) }]);
    const holder = new Database(fx.dbPath);
    try {
      holder.exec('BEGIN EXCLUSIVE');
      const started = Date.now();
      expect(() => readLocalProgress({ dbPath: fx.dbPath, planId: fx.planId, waitMs: 100 })).toThrow(StateError);
      // Far below the store's default busy timeout (60 s); generous for a loaded machine.
      expect(Date.now() - started).toBeLessThan(20_000);
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
      fx.cleanup();
    }
  });
});

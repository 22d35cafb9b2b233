// readLocalProgress: the totals the run --local bar shows, from a real SQLite file; a locked
// database is given up on quickly (the caller forwards stop signals on the same thread).
import { describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import { StateError, markFileDone, claimShard } from '@hfhpc/core';
import { readLocalProgress } from '../src/local-run.js';
import { planFixture } from './helpers/plan-fixture.js';

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

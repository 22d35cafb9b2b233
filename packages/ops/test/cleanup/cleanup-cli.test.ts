// `hfhpc cleanup` as a real process: a lease whose task died (expired on the real clock) and
// orphaned partial files.
import { afterEach, describe, expect, it } from '@jest/globals';
import { existsSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { cacheLayout, claimShard } from '@hfhpc/core';
import type { CleanupReport } from '../../src/cleanup/index.js';
import { runCli } from '../status/cli.js';
import { makeCache, type CacheFixture } from '../verify/cache-fixture.js';

const A = 'bigcode/cleanup-cli';
let fx: CacheFixture | undefined;
afterEach(() => fx?.cleanup());

describe('hfhpc cleanup (child process)', () => {
  it('expires the dead lease and removes the orphan partial; --dry-run first changes nothing', async () => {
    const f = (fx = makeCache({
      clock: { t: Date.now() },
      files: [
        { repo: A, path: 'p.parquet', content: 'p'.repeat(3000), lfs: true, shard: 0, state: 'pending' },
        { repo: A, path: 'd.parquet', content: 'd'.repeat(3000), lfs: true, shard: 1 },
      ],
    }));
    f.clock.t = Date.now();
    claimShard(f.store, { planId: f.planId, owner: '9_0@gone:1', preferIndex: 0, ttlMs: 200 });
    const layout = cacheLayout(f.root, A);
    const resumable = layout.incompletePath(f.blobOf(A, 'p.parquet'));
    const orphan = layout.incompletePath(f.blobOf(A, 'd.parquet'));
    writeFileSync(resumable, 'p'.repeat(1000));
    writeFileSync(orphan, 'd'.repeat(500));
    await sleep(400);

    const dry = await runCli(['cleanup', '--dry-run', '--root', f.root]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/^dry run: would expire 1 dead lease/m);
    expect(existsSync(orphan)).toBe(true);
    expect(f.store.db.prepare('SELECT COUNT(*) FROM leases').pluck().get()).toBe(1);

    const r = await runCli(['cleanup', '--json', '--root', f.root]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as CleanupReport;
    expect(report.expired_leases).toMatchObject([{ shard: 0, owner: '9_0@gone:1' }]);
    expect(report.partials.map((p) => [p.path, p.verdict, p.removed])).toEqual([
      [orphan, 'orphan', true],
      [resumable, 'resumable', false],
    ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))));
    expect(existsSync(orphan)).toBe(false);
    expect(existsSync(resumable)).toBe(true);
    expect(existsSync(f.blobPath(A, 'd.parquet'))).toBe(true);
    expect(f.store.db.prepare('SELECT state FROM shards WHERE idx = 0').pluck().get()).toBe('pending');
  });
});

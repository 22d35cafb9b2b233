import { mkdir, readFile, readlink, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import {
  AuthError,
  DiskError,
  IntegrityError,
  StaleFenceError,
  cacheLayout,
  createLogger,
  listShards,
  type Claim,
} from '@hfhpc/core';
import { ProgressMeter } from '../src/progress-meter.js';
import { runShard } from '../src/run-shard.js';
import { DoneRecorder } from '../src/done-recorder.js';
import type { DownloadFn } from '../src/download-fn.js';
import { blobOf, bytes, claimOwn, commitOf, fakeDownload, noGate, planFixture, type FixtureFile, type PlanFixture } from './helpers/plan-fixture.js';

const log = createLogger({ quiet: true });
let fx: PlanFixture | undefined;
afterEach(() => {
  fx?.cleanup();
  fx = undefined;
});

async function run(f: PlanFixture, claim: Claim, download: DownloadFn, concurrency = 3, recheckBlobs = false) {
  const signal = new AbortController().signal;
  const updates: [number, number][] = [];
  const done = new DoneRecorder({ store: f.store, claim: () => claim, maxBatch: 2 });
  const res = await runShard({
    store: f.store, claim, root: f.root, hubUrl: 'http://127.0.0.1:9', concurrency,
    download, gate: noGate, meter: new ProgressMeter(), progress: { update: (id, b) => void updates.push([id, b]), forget: () => undefined },
    done, signal, log, recheckBlobs,
  });
  await done.flush();
  return { res, updates };
}

function fileStates(f: PlanFixture) {
  return f.store.read((db) => db.prepare('SELECT path, state, last_error AS err FROM files ORDER BY id').all()) as { path: string; state: string; err: string | null }[];
}

describe('runShard', () => {
  it('downloads each blob once, links shared blobs across datasets, and places relative snapshot links', async () => {
    const shared = bytes(3000);
    const files: FixtureFile[] = [
      { repo: 'bigcode/a', path: 'README.md', content: bytes(100) },
      { repo: 'bigcode/a', path: 'data/python/x.parquet', content: bytes(5000), lfs: true },
      { repo: 'bigcode/a', path: 'data/copy one.bin', content: shared },
      { repo: 'bigcode/a', path: 'data/copy#two.bin', content: shared },
      { repo: 'codeparrot/b', path: 'shared.bin', content: shared },
      { repo: 'codeparrot/b', path: 'empty.txt', content: Buffer.alloc(0) },
    ];
    fx = planFixture(files);
    const dl = fakeDownload(files);
    const { res } = await run(fx, claimOwn(fx), dl);
    expect(res.failures).toEqual([]);
    expect(res.filesDone).toBe(6);
    // 4 distinct blobs: the shared one is fetched once for three paths in two repos.
    expect(dl.calls).toHaveLength(4);
    for (const f of files) {
      const layout = cacheLayout(fx.root, f.repo);
      const link = layout.snapshotPath(commitOf(f.repo), f.path);
      expect(await readlink(link)).toBe(layout.blobLinkTarget(f.path, blobOf(f)));
      expect((await readFile(link)).equals(f.content)).toBe(true);
    }
    expect(await readlink(join(fx.root, 'datasets--bigcode--a', 'snapshots', commitOf('bigcode/a'), 'data/python/x.parquet'))).toBe(`../../../../blobs/${blobOf(files[1])}`);
    // Same inode: the second repo got a hard link, not a second copy.
    const a = await stat(cacheLayout(fx.root, 'bigcode/a').blobPath(blobOf(files[2])));
    const b = await stat(cacheLayout(fx.root, 'codeparrot/b').blobPath(blobOf(files[4])));
    expect(a.ino).toBe(b.ino);
    expect(fileStates(fx).every((r) => r.state === 'done')).toBe(true);
  });

  it('records the stat of each blob it downloaded (after its hard links were made), not of blobs it found on disk', async () => {
    const shared = bytes(3000);
    const files: FixtureFile[] = [
      { repo: 'bigcode/a', path: 'shared.bin', content: shared },
      { repo: 'codeparrot/b', path: 'shared.bin', content: shared },
      { repo: 'bigcode/a', path: 'kept.bin', content: bytes(10), state: 'done' },
    ];
    fx = planFixture(files);
    const layout = cacheLayout(fx.root, 'bigcode/a');
    await mkdir(layout.blobsDir, { recursive: true });
    await writeFile(layout.blobPath(blobOf(files[2])), files[2].content);
    await run(fx, claimOwn(fx), fakeDownload(files));
    const rows = fx.store.read((db) => db.prepare('SELECT repo, blob, size, ino, ctime_ns AS ctime, source FROM blob_verifications ORDER BY repo').safeIntegers(true).all()) as {
      repo: string; blob: string; size: bigint; ino: string; ctime: bigint; source: string;
    }[];
    expect(rows.map((r) => [r.repo, r.blob, Number(r.size), r.source])).toEqual([
      ['bigcode/a', blobOf(files[0]), 3000, 'placed'],
      ['codeparrot/b', blobOf(files[1]), 3000, 'placed'],
    ]);
    for (const r of rows) {
      const st = await stat(cacheLayout(fx.root, r.repo).blobPath(r.blob), { bigint: true });
      expect([r.ino, r.ctime]).toEqual([st.ino.toString(), st.ctimeNs]);
    }
  });

  it('fetches nothing for files already done whose blob is on disk, and re-fetches a done file whose blob vanished', async () => {
    const files: FixtureFile[] = [
      { repo: 'bigcode/a', path: 'kept.bin', content: bytes(10), state: 'done' },
      { repo: 'bigcode/a', path: 'lost.bin', content: bytes(20), state: 'done' },
      { repo: 'bigcode/a', path: 'new.bin', content: bytes(30) },
    ];
    fx = planFixture(files);
    const layout = cacheLayout(fx.root, 'bigcode/a');
    await mkdir(layout.blobsDir, { recursive: true });
    await writeFile(layout.blobPath(blobOf(files[0])), files[0].content);
    const dl = fakeDownload(files);
    await run(fx, claimOwn(fx), dl);
    expect(dl.calls.map((c) => c.path).sort()).toEqual(['lost.bin', 'new.bin']);
  });

  it('hashes a blob at its final path that hfhpc never recorded done (another tool\'s cache): a good one is kept, a corrupt one of the right size fetched again', async () => {
    const files: FixtureFile[] = [
      { repo: 'bigcode/a', path: 'good.bin', content: bytes(64), lfs: true },
      { repo: 'bigcode/a', path: 'bad.bin', content: bytes(96), lfs: true },
    ];
    fx = planFixture(files);
    const layout = cacheLayout(fx.root, 'bigcode/a');
    await mkdir(layout.blobsDir, { recursive: true });
    await writeFile(layout.blobPath(blobOf(files[0])), files[0].content);
    await writeFile(layout.blobPath(blobOf(files[1])), Buffer.alloc(96, 0x55));
    const dl = fakeDownload(files);
    const { res } = await run(fx, claimOwn(fx), dl);
    expect(dl.calls.map((c) => c.path)).toEqual(['bad.bin']);
    expect(res.filesDone).toBe(2);
    expect(await readFile(layout.blobPath(blobOf(files[1])))).toEqual(files[1].content);
  });

  it('trusts a blob hfhpc recorded done before; plan --force (recheckBlobs) hashes it again and re-fetches it when corrupt', async () => {
    const content = bytes(128);
    const files: FixtureFile[] = [
      { repo: 'bigcode/a', path: 'one.bin', content, lfs: true, state: 'done' },
      { repo: 'bigcode/b', path: 'two.bin', content, lfs: true },
    ];
    const corruptCopy = async (f: PlanFixture): Promise<string> => {
      const layout = cacheLayout(f.root, 'bigcode/b');
      await mkdir(layout.blobsDir, { recursive: true });
      await writeFile(layout.blobPath(blobOf(files[1])), Buffer.alloc(128, 0x33));
      return layout.blobPath(blobOf(files[1]));
    };
    fx = planFixture(files);
    await corruptCopy(fx);
    const trusting = fakeDownload(files);
    await run(fx, claimOwn(fx), trusting);
    expect(trusting.calls).toHaveLength(0); // recorded done: not read, not fetched
    fx.cleanup();

    fx = planFixture(files);
    const blob = await corruptCopy(fx);
    const rechecking = fakeDownload(files);
    await run(fx, claimOwn(fx), rechecking, 3, true);
    // The corrupt copy is neither reused for one.bin nor kept for two.bin: one download serves both.
    expect(rechecking.calls.map((c) => c.path)).toEqual(['one.bin']);
    expect(await readFile(blob)).toEqual(content);
    expect(await readFile(cacheLayout(fx.root, 'bigcode/a').blobPath(blobOf(files[0])))).toEqual(content);
  });

  it('reuses a verified blob from another repo folder already in the cache instead of downloading it', async () => {
    const content = bytes(4096);
    const files: FixtureFile[] = [{ repo: 'bigcode/new', path: 'same.bin', content, lfs: true }];
    fx = planFixture(files);
    const other = cacheLayout(fx.root, 'bigcode/old');
    await mkdir(other.blobsDir, { recursive: true });
    await writeFile(other.blobPath(blobOf(files[0])), content);
    const dl = fakeDownload(files);
    const { res } = await run(fx, claimOwn(fx), dl);
    expect(dl.calls).toHaveLength(0);
    expect(res.filesDone).toBe(1);
    expect((await stat(cacheLayout(fx.root, 'bigcode/new').blobPath(blobOf(files[0])))).nlink).toBe(2);
  });

  it('records a failed file with its reason and goes on; an auth error fails the rest of that repo without requests', async () => {
    const files: FixtureFile[] = [
      { repo: 'bigcode/open', path: 'bad.bin', content: bytes(300) },
      { repo: 'bigcode/open', path: 'good.bin', content: bytes(200) },
      { repo: 'bigcode/gated', path: 'g1.bin', content: bytes(150) },
      { repo: 'bigcode/gated', path: 'g2.bin', content: bytes(100) },
      { repo: 'bigcode/gated', path: 'g3.bin', content: bytes(50) },
    ];
    fx = planFixture(files);
    const dl = fakeDownload(files, (req) =>
      req.path === 'bad.bin'
        ? new IntegrityError('bigcode/open/bad.bin: sha1 mismatch after 3 attempts')
        : req.repo === 'bigcode/gated'
          ? new AuthError('bigcode/gated is gated: log in', { hint: 'request access on the repo page' })
          : undefined,
    );
    // One at a time, so "no request after the first auth error" is exact.
    const { res } = await run(fx, claimOwn(fx), dl, 1);
    expect(res.filesDone).toBe(1);
    expect(res.failures.map((f) => f.path).sort()).toEqual(['bad.bin', 'g1.bin', 'g2.bin', 'g3.bin']);
    expect(dl.calls.filter((c) => c.repo === 'bigcode/gated')).toHaveLength(1);
    const states = fileStates(fx);
    expect(states.find((s) => s.path === 'bad.bin')).toMatchObject({ state: 'failed', err: expect.stringContaining('sha1 mismatch') });
    expect(states.find((s) => s.path === 'g3.bin')?.err).toContain('gated');
    expect(states.find((s) => s.path === 'good.bin')?.state).toBe('done');
  });

  it('refuses a hostile path from a tampered plan before any request and writes nothing outside the root', async () => {
    const files: FixtureFile[] = [{ repo: 'bigcode/a', path: 'ok.txt', content: bytes(5) }];
    fx = planFixture(files);
    fx.store.write((db) => db.prepare("UPDATE files SET path = '../../../escape.txt'").run());
    const dl = fakeDownload(files);
    const { res } = await run(fx, claimOwn(fx), dl);
    expect(dl.calls).toHaveLength(0);
    expect(res.failures[0].error).toMatch(/unsafe path/);
    await expect(stat(join(fx.dir, 'escape.txt'))).rejects.toThrow();
  });

  it('stops the shard on a disk error, keeping the other downloads from going on', async () => {
    const files: FixtureFile[] = Array.from({ length: 6 }, (_, i) => ({ repo: 'bigcode/a', path: `f${i}.bin`, content: bytes(100 + i) }));
    fx = planFixture(files);
    const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    const dl = fakeDownload(files, (req) => (req.path === 'f5.bin' ? enospc : undefined));
    const err = await run(fx, claimOwn(fx), dl).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DiskError);
    expect((err as Error).message).toMatch(/no space left \(ENOSPC\) writing .*\.incomplete; 105 B still needed/);
    // Largest first: f5 is the first; the failure stops the pool before the rest start.
    expect(dl.calls.length).toBeLessThan(6);
  });

  it('touches nothing more once another task holds the shard (stale fence)', async () => {
    const files: FixtureFile[] = [{ repo: 'bigcode/a', path: 'x.bin', content: bytes(10) }];
    fx = planFixture(files);
    const mine = claimOwn(fx, 'me@host:1', 1);
    await new Promise((r) => setTimeout(r, 5));
    const theirs = claimOwn(fx, 'them@host:2');
    expect(theirs.fence).toBeGreaterThan(mine.fence);
    await expect(run(fx, mine, fakeDownload(files))).rejects.toBeInstanceOf(StaleFenceError);
    expect(fileStates(fx)[0].state).toBe('pending');
    expect(listShards(fx.store, fx.planId)[0].owner).toBe('them@host:2');
  });
});

// A shard many pages long, read from a real state database a page at a time: every file is
// placed and recorded done, each blob fetched once even when its files span two repos, files
// recorded done with their blob in place are set aside without a request, a blob shared by more
// paths than a page is run a chunk at a time, and the files held in memory at once stay near a
// page plus what is in flight, far below the shard.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { cacheLayout, createLogger } from '@hfhpc/core';
import { DoneRecorder } from '../src/done-recorder.js';
import { ConnectionBudget } from '../src/download/connection-budget.js';
import type { DownloadFn } from '../src/download-fn.js';
import { ProgressMeter } from '../src/progress-meter.js';
import { runShard } from '../src/run-shard.js';
import { blobOf, bytes, claimOwn, fakeDownload, noGate, planFixture, type FixtureFile, type PlanFixture } from './helpers/plan-fixture.js';

const log = createLogger({ quiet: true });
let fx: PlanFixture | undefined;
afterEach(() => {
  fx?.cleanup();
  fx = undefined;
});

/** `n` files over two repos; every fourth has the content of the one before (one blob, two repos). */
function manyFiles(n: number, state?: (i: number) => 'done' | 'pending'): FixtureFile[] {
  const files: FixtureFile[] = [];
  for (let i = 0; i < n; i++) {
    const content = i % 4 === 3 ? files[i - 1].content : bytes(10 + (i % 7));
    files.push({ repo: i % 2 ? 'org/b' : 'org/a', path: `d${i % 3}/f${i}.bin`, content, state: state?.(i) });
  }
  return files;
}

async function run(f: PlanFixture, download: DownloadFn, pageSize: number, concurrency: number, connections?: ConnectionBudget) {
  const claim = claimOwn(f);
  const done = new DoneRecorder({ store: f.store, claim: () => claim, maxBatch: 5 });
  const meter = new ProgressMeter();
  const res = await runShard({
    store: f.store, claim, root: f.root, hubUrl: 'http://127.0.0.1:9', concurrency, pageSize, connections,
    download, gate: noGate, meter, progress: { update: () => undefined, forget: () => undefined },
    done, signal: new AbortController().signal, log,
  });
  await done.flush();
  return { res, meter };
}

function states(f: PlanFixture): string[] {
  return f.store.read((db) => db.prepare('SELECT state FROM files ORDER BY id').pluck().all()) as string[];
}

describe('runShard over pages', () => {
  it('places every file of a shard many pages long, fetching each blob once, holding about a page at a time', async () => {
    const files = manyFiles(120);
    fx = planFixture(files);
    const dl = fakeDownload(files);
    let running = 0;
    let mostRunning = 0;
    const counting: DownloadFn = async (req) => {
      mostRunning = Math.max(mostRunning, ++running);
      try {
        await new Promise((r) => setTimeout(r, 1));
        return await dl(req);
      } finally {
        running--;
      }
    };
    const pageSize = 8;
    const concurrency = 3;
    // Each group in flight holds one of the task's connections, and gives it back.
    const connections = new ConnectionBudget(8);
    let mostHeld = 0;
    const holding: DownloadFn = async (req) => {
      mostHeld = Math.max(mostHeld, connections.inUse);
      return counting(req);
    };
    const { res, meter } = await run(fx, holding, pageSize, concurrency, connections);
    expect(mostHeld).toBeGreaterThanOrEqual(1);
    expect(mostHeld).toBeLessThanOrEqual(concurrency);
    expect(connections.inUse).toBe(0);
    expect(res.failures).toEqual([]);
    expect(res.filesDone).toBe(120);
    expect(states(fx).every((s) => s === 'done')).toBe(true);
    const blobs = new Set(files.map(blobOf));
    expect(dl.calls).toHaveLength(blobs.size);
    expect(new Set(dl.calls.map((c) => c.finalPath.split('/').pop())).size).toBe(blobs.size);
    expect(mostRunning).toBeLessThanOrEqual(concurrency);
    expect(res.pages).toBeGreaterThanOrEqual(120 / (pageSize + 1));
    // Waiting below the low-water mark (4 × concurrency) when a page (at most pageSize + the
    // rest of one blob) comes in, plus the groups in flight (a blob here has at most 2 files).
    const lowWater = 4 * concurrency;
    expect(res.maxFilesHeld).toBeGreaterThan(0);
    expect(res.maxFilesHeld).toBeLessThanOrEqual(lowWater - 1 + pageSize + 1 + 2 * concurrency);
    expect(meter.counts).toMatchObject({ filesTotal: 120, filesDone: 120, filesFailed: 0 });
  });

  it('runs a blob with more paths than a page (many empty files) a chunk at a time: one download, never two chunks at once, memory of a few pages', async () => {
    const shared = bytes(3);
    const files: FixtureFile[] = [
      ...manyFiles(20),
      ...Array.from({ length: 100 }, (_, i) => ({ repo: 'org/a', path: `same/f${i}.txt`, content: shared })),
    ];
    fx = planFixture(files);
    const dl = fakeDownload(files);
    const slowShared: DownloadFn = async (req) => {
      // Slow enough that a second chunk of the blob would start its own download if allowed to run now.
      if (req.finalPath.endsWith(blobOf(files[20]))) await new Promise((r) => setTimeout(r, 50));
      return dl(req);
    };
    const pageSize = 8;
    const concurrency = 4;
    const { res } = await run(fx, slowShared, pageSize, concurrency);
    expect(res.failures).toEqual([]);
    expect(res.filesDone).toBe(120);
    expect(states(fx).every((s) => s === 'done')).toBe(true);
    expect(dl.calls.filter((c) => c.finalPath.endsWith(blobOf(files[20])))).toHaveLength(1);
    expect(res.maxFilesHeld).toBeLessThanOrEqual(4 * concurrency - 1 + 2 * pageSize + concurrency * pageSize);
    expect(res.maxFilesHeld).toBeLessThan(100);
  });

  it('sets aside files recorded done whose blob is in place, page by page, and fetches again one whose blob vanished', async () => {
    // The first 40 files are recorded done; their blobs are on disk except file 5's.
    const files = manyFiles(60, (i) => (i < 40 ? 'done' : 'pending'));
    fx = planFixture(files);
    for (const [i, f] of files.entries()) {
      if (i >= 40 || i === 5) continue;
      const p = cacheLayout(fx.root, f.repo).blobPath(blobOf(f));
      await mkdir(dirname(p), { recursive: true });
      await writeFile(p, f.content);
    }
    const dl = fakeDownload(files);
    const { res, meter } = await run(fx, dl, 7, 2);
    expect(res.failures).toEqual([]);
    expect(res.filesDone).toBe(60);
    expect(states(fx).every((s) => s === 'done')).toBe(true);
    const fetched = new Set(dl.calls.map((c) => `${c.repo}/${c.path}`));
    // Nothing requested for the done files whose blob was there; file 5's blob is fetched again.
    expect(fetched.has(`${files[5].repo}/${files[5].path}`)).toBe(true);
    for (let i = 0; i < 40; i++) if (i !== 5) expect(fetched.has(`${files[i].repo}/${files[i].path}`)).toBe(false);
    const todoBlobs = new Set(files.slice(40).map(blobOf));
    expect(dl.calls).toHaveLength(todoBlobs.size + (todoBlobs.has(blobOf(files[5])) ? 0 : 1));
    expect(meter.counts).toMatchObject({ filesTotal: 60, filesDone: 60 });
  });

  it('completes an empty claim of a shard whose files are all done and in place without a request', async () => {
    const files = manyFiles(9, () => 'done');
    fx = planFixture(files);
    for (const f of files) {
      const p = cacheLayout(fx.root, f.repo).blobPath(blobOf(f));
      await mkdir(dirname(p), { recursive: true });
      await writeFile(p, f.content);
    }
    const dl = fakeDownload(files);
    // A shard with every file done is created done: claim it through a fresh shard row state.
    fx.store.write((db) => db.prepare("UPDATE shards SET state = 'pending'").run());
    const { res } = await run(fx, dl, 4, 2);
    expect(dl.calls).toHaveLength(0);
    expect(res.filesDone).toBe(9);
    expect(res.pages).toBeGreaterThanOrEqual(2);
  });
});

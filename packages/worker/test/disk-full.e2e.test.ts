// A full disk stops the task with one line naming the path and the space needed, keeps the
// partial file for a later resume and gives the lease back (exit 1). On a real 8 MiB tmpfs.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { listShards, openStore } from '@hfhpc/core';
import type { FakeHub } from '@hfhpc/fakehub';
import { checkFinalBlobs, killLeftovers, partialsOf, planFromHub, runWork, startHub, workspace, type Workspace } from './helpers/e2e.js';

let hub: FakeHub;
let ws: Workspace;
let ro: Workspace;
let mounted = false;
let whyNot = '';

beforeAll(async () => {
  ws = workspace();
  ro = workspace();
  mkdirSync(ws.root, { recursive: true });
  mkdirSync(ro.root, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', ws.root], { stdio: 'pipe' });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', ro.root], { stdio: 'pipe' });
    mounted = true;
  } catch (err) {
    whyNot = (err as { stderr?: Buffer }).stderr?.toString().trim() || (err as Error).message;
    console.warn(`disk-full test skipped: cannot mount a tmpfs here (${whyNot}); it needs root`);
  }
  hub = await startHub({
    repos: [{ id: 'bigcode/too-big', files: [{ path: 'README.md', text: '# too big\n' }, { path: 'data/huge.bin', size: '12MiB', lfs: true }, { path: 'data/more.bin', size: '3MiB', lfs: true }] }],
  });
});

afterAll(async () => {
  killLeftovers();
  await hub.stop();
  if (mounted) {
    execFileSync('umount', [ws.root]);
    execFileSync('umount', [ro.root]);
  }
  ws.cleanup();
  ro.cleanup();
});

describe('disk full', () => {
  it('ENOSPC on an 8 MiB tmpfs: one-line error with path and the space the whole plan still needs, partial kept, lease released, exit 1', async () => {
    if (!mounted) {
      console.warn(`skipped: ${whyNot}`);
      return;
    }
    // The database lives outside the full filesystem, as it would on a cluster's home.
    const { files } = await planFromHub({ hub, ws, repos: ['bigcode/too-big'] });
    const huge = files.find((f) => f.path === 'data/huge.bin')!;
    // One download at a time: the 12 MiB blob (largest first) fills the disk, the rest waits.
    const res = await runWork(ws, hub, ['--task-id', '0', '--concurrency', '1']).done;
    expect(res.code).toBe(1);
    const line = res.stderr.split('\n').find((l) => l.startsWith('hfhpc: '));
    expect(line).toMatch(new RegExp(`^hfhpc: no space left \\(ENOSPC\\) writing ${join(ws.root, 'datasets--bigcode--too-big', 'blobs', huge.blob)}\\.p1s0f1-[0-9a-f]+\\.incomplete; [\\d.]+ MiB still needed to finish the plan`));
    const partial = (await partialsOf(ws.root, 'bigcode/too-big', huge.blob))[0]!;
    // What the plan still needs: the rest of the big blob and every file not started, not
    // only the big blob's remainder.
    const stated = Number(/; ([\d.]+) MiB still needed/.exec(line!)![1]) * 2 ** 20;
    const planLeft = files.reduce((s, f) => s + f.size, 0) - partial.size;
    expect(stated).toBeGreaterThan(huge.size - partial.size + 2 * 2 ** 20);
    // The database lags the disk by the write batches in flight when the disk filled (a batch
    // counts only once written and hashed; up to 2 MiB each for one stream), and the figure is
    // rounded: stated ≥ what is really left, by at most a few batches.
    expect(stated).toBeGreaterThan(planLeft - 0.1 * 2 ** 20);
    expect(stated).toBeLessThan(planLeft + 4 * 2 ** 20);
    expect(partial.size).toBeGreaterThan(0);
    expect(partial.size).toBeLessThan(huge.size);
    const store = openStore({ path: ws.dbPath });
    try {
      const [shard] = listShards(store, 1);
      expect(shard.state).toBe('pending');
      expect(shard.owner).toBeNull();
    } finally {
      store.close();
    }
    expect(await checkFinalBlobs(ws.root)).toEqual([]);
  });

  it('a read-only root: one-line error naming the path before any claim, exit 1', async () => {
    if (!mounted) {
      console.warn(`skipped: ${whyNot}`);
      return;
    }
    await planFromHub({ hub, ws: ro, repos: ['bigcode/too-big'] });
    const res = await runWork(ro, hub, ['--task-id', '0']).done;
    expect(res.code).toBe(1);
    const line = res.stderr.split('\n').find((l) => l.startsWith('hfhpc: '));
    expect(line).toMatch(new RegExp(`^hfhpc: cannot write ${ro.root} \\(EROFS: read-only filesystem\\)`));
    const store = openStore({ path: ro.dbPath });
    try {
      expect(listShards(store, 1)[0]).toMatchObject({ state: 'pending', owner: null });
    } finally {
      store.close();
    }
  });
});

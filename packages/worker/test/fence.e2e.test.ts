// The fence reaches the bytes, and a task never exits 0 with a shard it claimed unfinished:
// real `hfhpc work` processes frozen with SIGSTOP, killed, or unable to write the database,
// against fakehub's slow and corrupting CDN.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { cacheLayout, listShards, openStore } from '@hfhpc/core';
import type { FakeHub, FakeHubConfig } from '@hfhpc/fakehub';
import { checkCache, partialsOf, planFromHub, runWork, until, useSharedHub, within, workspace, type Run, type Workspace } from './helpers/e2e.js';

const MiB = 1024 * 1024;
const REPO = 'org/fenced';
const PATH = 'data/big.bin';
const SIZE = 8 * MiB;
const config: FakeHubConfig = { repos: [{ id: REPO, files: [{ path: PATH, size: SIZE, lfs: true }] }] };

let hub: FakeHub;
let ws: Workspace | undefined;
useSharedHub(config, { started: (h) => (hub = h), workspace: () => ws });

function dbState(w: Workspace) {
  const store = openStore({ path: w.dbPath, create: false });
  try {
    const shard = listShards(store, 1)[0]!;
    const file = store.read((db) => db.prepare('SELECT state, bytes_done AS bytesDone FROM files WHERE path = ?').get(PATH)) as { state: string; bytesDone: number };
    return { shard, file };
  } finally {
    store.close();
  }
}

async function waitPartial(run: Run, blob: string, bytes: number, what: string): Promise<{ path: string; size: number }> {
  let found: { path: string; size: number } | undefined;
  await until(async () => {
    found = (await partialsOf(ws!.root, REPO, blob))[0];
    return (found?.size ?? 0) > bytes;
  }, 40_000, what).catch((e: Error) => {
    run.child.kill('SIGKILL');
    throw new Error(`${e.message}; worker said: ${run.stderrSoFar()}`);
  });
  return found!;
}

async function leaseExpired(w: Workspace): Promise<void> {
  const expiresAt = dbState(w).shard.leaseExpiresAt ?? 0;
  await until(() => Date.now() > expiresAt + 300, 20_000, 'lease expiry');
}

describe('the fence reaches the bytes', () => {
  it('a task frozen past its lease, woken while the new holder writes, puts none of its (corrupt) socket bytes into the new partial or the blob', async () => {
    ws = workspace();
    const { files } = await planFromHub({ hub, ws, repos: [REPO] });
    const blob = files[0]!.blob;
    // A's first request: slow, with a flipped byte beyond what A has written when it freezes.
    hub.faults.bandwidth({ host: 'cdn', bytesPerSecond: MiB, count: 1 });
    hub.faults.corruptBytes({ host: 'cdn', offset: 4 * MiB });
    const a = runWork(ws, hub, ['--task-id', '0', '--lease-ttl', '2', '--concurrency', '1']);
    const aPartial = await waitPartial(a, blob, 2.5 * MiB, 'A past 2.5 MiB');
    const aIno = (await stat(aPartial.path)).ino;
    a.child.kill('SIGSTOP');
    await leaseExpired(ws);
    // Let the server push the corrupt byte into A's socket while A sleeps.
    await new Promise((r) => setTimeout(r, 2500));
    hub.faults.clear();
    hub.faults.bandwidth({ host: 'cdn', bytesPerSecond: MiB });
    const b = runWork(ws, hub, ['--task-id', '1', '--lease-ttl', '2']);
    await until(() => /claimed shard 0 \(fence 2\)/.test(b.stderrSoFar()), 20_000, 'B claims');
    // Wake A while B is mid-file: both would write one inode in the shared-partial design.
    const bPartial = await waitPartial(b, blob, aPartial.size + MiB, 'B past A’s bytes');
    expect(bPartial.path).not.toBe(aPartial.path);
    a.child.kill('SIGCONT');
    const [ra, rb] = await within(Promise.all([a.done, b.done]), 60_000, 'both tasks');
    expect(rb.code).toBe(0);
    expect(rb.stderr).toMatch(/resuming data\/big\.bin at byte \d+/);
    expect(ra.stderr).toMatch(/lost the lease on shard 0/);
    expect(ra.stderr).not.toMatch(/shard 0: (done|failed)/);
    expect(ra.code).toBe(0);
    // The blob hashes to its name, the database says done, and A's inode is not the blob.
    expect(await checkCache({ root: ws.root, hub, complete: files })).toEqual([]);
    const finalPath = cacheLayout(ws.root, REPO).blobPath(blob);
    expect((await stat(finalPath)).ino).not.toBe(aIno);
    expect(dbState(ws)).toMatchObject({ shard: { state: 'done', owner: null }, file: { state: 'done' } });
    // B took A's partial over (copied, then removed it); A left nothing behind.
    expect((await readdir(cacheLayout(ws.root, REPO).blobsDir)).filter((n) => n.endsWith('.incomplete'))).toEqual([]);
  }, 120_000);

  it('a task frozen for twice its lease ttl with nobody taking over carries on and finishes (exit 0, file done)', async () => {
    ws = workspace();
    const { files } = await planFromHub({ hub, ws, repos: [REPO] });
    hub.faults.bandwidth({ host: 'cdn', bytesPerSecond: 2 * MiB, count: 1 });
    const a = runWork(ws, hub, ['--task-id', '0', '--lease-ttl', '2', '--concurrency', '1']);
    await waitPartial(a, files[0]!.blob, 2 * MiB, 'A past 2 MiB');
    a.child.kill('SIGSTOP');
    await new Promise((r) => setTimeout(r, 5000));
    expect(dbState(ws).shard.leaseExpiresAt!).toBeLessThan(Date.now());
    a.child.kill('SIGCONT');
    const res = await within(a.done, 60_000, 'A finishing');
    expect(res.stderr).not.toMatch(/lost the lease/);
    expect(res.stderr).toMatch(/shard 0: done/);
    expect(res.code).toBe(0);
    expect(dbState(ws)).toMatchObject({ shard: { state: 'done', owner: null }, file: { state: 'done' } });
    expect(await checkCache({ root: ws.root, hub, complete: files })).toEqual([]);
  }, 90_000);

  it('a task killed with a live lease: the next task on this host takes the shard back at once and finishes it', async () => {
    ws = workspace();
    const { files } = await planFromHub({ hub, ws, repos: [REPO] });
    hub.faults.bandwidth({ host: 'cdn', bytesPerSecond: 2 * MiB, count: 1 });
    const a = runWork(ws, hub, ['--task-id', '0', '--lease-ttl', '600']);
    await waitPartial(a, files[0]!.blob, MiB, 'A past 1 MiB');
    a.child.kill('SIGKILL');
    expect((await a.done).code).toBe(137);
    expect(dbState(ws).shard).toMatchObject({ state: 'running' });
    expect(dbState(ws).shard.leaseExpiresAt!).toBeGreaterThan(Date.now() + 60_000);
    const b = await within(runWork(ws, hub, ['--task-id', '0', '--lease-ttl', '600']).done, 60_000, 'B');
    expect(b.stderr).toMatch(/took back shard 0: its holder local@.*:\d+ is no longer running/);
    expect(b.stderr).toMatch(/resuming data\/big\.bin at byte \d+/);
    expect(b.code).toBe(0);
    expect(dbState(ws)).toMatchObject({ shard: { state: 'done', owner: null }, file: { state: 'done' } });
    expect(await checkCache({ root: ws.root, hub, complete: files })).toEqual([]);
  }, 90_000);

  it('a task that cannot release its lease (database on a full disk) exits 1 naming when the lease expires; the next one takes the shard back', async () => {
    ws = workspace();
    const dbDir = join(ws.dir, 'db');
    mkdirSync(dbDir);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dbDir], { stdio: 'pipe' });
    } catch (err) {
      console.warn(`skipped: cannot mount a tmpfs here (${(err as Error).message.split('\n')[0]}); it needs root`);
      return;
    }
    try {
      const w: Workspace = { ...ws, dbPath: join(dbDir, 'state.sqlite') };
      const { files } = await planFromHub({ hub, ws: w, repos: [REPO] });
      hub.faults.bandwidth({ host: 'cdn', bytesPerSecond: MiB, count: 1 });
      const a = runWork(w, hub, ['--task-id', '0', '--lease-ttl', '600']);
      await waitPartial(a, files[0]!.blob, MiB, 'A past 1 MiB');
      const filler = join(dbDir, 'filler');
      try {
        writeFileSync(filler, Buffer.alloc(2 * MiB));
      } catch {
        // ENOSPC: the disk is full now, which is the point.
      }
      a.child.kill('SIGTERM');
      const ra = await within(a.done, 30_000, 'A exiting');
      expect(ra.stderr).toMatch(/could not release the lease on shard 0 \(.*\).*; the lease expires at \d{4}-\d\d-\d\dT[\d:.]+Z, then any task can take the shard/);
      expect(ra.code).toBe(1);
      rmSync(filler);
      expect(dbState(w).shard).toMatchObject({ state: 'running' });
      const rb = await within(runWork(w, hub, ['--task-id', '0', '--lease-ttl', '600']).done, 60_000, 'B');
      expect(rb.stderr).toMatch(/took back shard 0/);
      expect(rb.code).toBe(0);
      expect(dbState(w)).toMatchObject({ shard: { state: 'done', owner: null }, file: { state: 'done' } });
      expect(await checkCache({ root: w.root, hub, complete: files })).toEqual([]);
    } finally {
      execFileSync('umount', ['-l', dbDir]);
    }
  }, 120_000);
});

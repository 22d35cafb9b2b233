// A worker killed in the middle of a large file, and one stopped by a signal: the lease comes
// back, the partial file stays, and the next worker resumes it without fetching it again.
import { describe, expect, it } from '@jest/globals';
import { listShards, openStore } from '@hfhpc/core';
import type { FakeHub, FakeHubConfig } from '@hfhpc/fakehub';
import { readFileSync } from 'node:fs';
import { cdnRequestsWithAuth, checkCache, partialSize as largestPartial, partialsOf, planFromHub, runWork, until, useSharedHub, within, workspace, type Workspace } from './helpers/e2e.js';

const SIZE = 96 * 1024 * 1024;
const config: FakeHubConfig = {
  repos: [{ id: 'bigcode/large', files: [{ path: 'data/train.bin', size: SIZE, lfs: true }, { path: 'README.md', text: '# large\n' }] }],
};

let hub: FakeHub;
let ws: Workspace | undefined;
useSharedHub(config, { started: (h) => (hub = h), workspace: () => ws });

async function partialSize(w: Workspace, blob: string): Promise<number> {
  return largestPartial(w.root, 'bigcode/large', blob);
}

/** What the resume record of a ranged download says has landed (0 before there is one). */
async function recordedBytes(w: Workspace, blob: string): Promise<{ landed: number; segments: Array<[number, number, number]> }> {
  const record = (await partialsOf(w.root, 'bigcode/large', blob)).find((p) => p.path.endsWith('.ranges.incomplete'));
  if (!record) return { landed: 0, segments: [] };
  try {
    const { segments } = JSON.parse(readFileSync(record.path, 'utf8')) as { segments: Array<[number, number, number]> };
    return { landed: segments.reduce((n, s) => n + s[2], 0), segments };
  } catch {
    return { landed: 0, segments: [] };
  }
}

function shardState(w: Workspace) {
  const store = openStore({ path: w.dbPath });
  try {
    return { shard: listShards(store, 1)[0], bytesDone: store.read((db) => db.prepare("SELECT bytes_done AS b FROM files WHERE path = 'data/train.bin'").get() as { b: number }).b };
  } finally {
    store.close();
  }
}

describe('interrupted workers', () => {
  it('SIGKILL mid-file: after the lease expires another worker resumes it, re-fetching under 5% of the file', async () => {
    ws = workspace();
    const { files } = await planFromHub({ hub, ws, repos: ['bigcode/large'] });
    const big = files.find((f) => f.path === 'data/train.bin')!;
    hub.faults.bandwidth({ host: 'cdn', bytesPerSecond: 24 * 1024 * 1024 });
    // One connection per file here; parallel ranges have their own SIGKILL test below.
    const first = runWork(ws, hub, ['--task-id', '0', '--lease-ttl', '2', '--connections-per-file', '1']);
    await until(async () => (await partialSize(ws!, big.blob)) > SIZE * 0.3, 30_000, 'a third of the file on disk').catch((e: Error) => {
      first.child.kill('SIGKILL');
      throw new Error(`${e.message}; worker said: ${first.stderrSoFar()}`);
    });
    first.child.kill('SIGKILL');
    expect((await first.done).code).toBe(137);
    // The dead task still holds the lease until it expires: a new task finds nothing to claim.
    const held = shardState(ws).shard;
    expect(held.state).toBe('running');
    await until(() => Date.now() > (held.leaseExpiresAt ?? 0) + 50, 10_000, 'lease expiry');
    hub.faults.clear();
    const second = await runWork(ws, hub, ['--task-id', '1', '--lease-ttl', '2', '--connections-per-file', '1']).done;
    expect(second.code).toBe(0);
    expect(second.stderr).toMatch(/claimed shard 0 \(fence 2\)/);
    expect(second.stderr).toMatch(/resuming data\/train\.bin at byte \d+/);
    const sent = hub.requests.filter((r) => r.host === 'cdn' && r.filePath === 'data/train.bin').reduce((s, r) => s + r.bytesSent, 0);
    expect(sent - SIZE).toBeLessThan(SIZE * 0.05);
    expect(await checkCache({ root: ws.root, hub, complete: files })).toEqual([]);
    expect(cdnRequestsWithAuth(hub)).toBe(0);
  });

  it('SIGKILL mid-file over parallel ranges: the next worker keeps every byte the resume record names and fetches only the rest', async () => {
    ws = workspace();
    const { files } = await planFromHub({ hub, ws, repos: ['bigcode/large'] });
    const big = files.find((f) => f.path === 'data/train.bin')!;
    // Every connection capped: the file goes over several ranged connections at once.
    hub.faults.bandwidth({ host: 'cdn', bytesPerSecond: 12 * 1024 * 1024 });
    const first = runWork(ws, hub, ['--task-id', '0', '--lease-ttl', '2']);
    await until(async () => (await recordedBytes(ws!, big.blob)).landed > 16 * 1024 * 1024, 120_000, 'a sixth of the file recorded').catch((e: Error) => {
      first.child.kill('SIGKILL');
      throw new Error(`${e.message}; worker said: ${first.stderrSoFar()}`);
    });
    first.child.kill('SIGKILL');
    expect((await first.done).code).toBe(137);
    const { landed, segments } = await recordedBytes(ws, big.blob);
    // Bytes landed out of order: more than one segment holds some.
    expect(segments.filter((s) => s[2] > 0).length).toBeGreaterThan(1);
    const held = shardState(ws).shard;
    await until(() => Date.now() > (held.leaseExpiresAt ?? 0) + 50, 10_000, 'lease expiry');
    hub.faults.clear();
    hub.resetRequests();
    const second = await runWork(ws, hub, ['--task-id', '1', '--lease-ttl', '2']).done;
    expect(second.code).toBe(0);
    expect(second.stderr).toMatch(/resuming data\/train\.bin at byte \d+/);
    // Exact: the second worker asks for exactly the bytes the record does not name.
    const sent = hub.requests.filter((r) => r.host === 'cdn' && r.filePath === 'data/train.bin').reduce((s, r) => s + r.bytesSent, 0);
    expect(sent).toBe(SIZE - landed);
    expect(await checkCache({ root: ws.root, hub, complete: files })).toEqual([]);
    expect((await partialsOf(ws.root, 'bigcode/large', big.blob)).length).toBe(0);
  }, 300_000);

  it('a worker frozen past its lease (SIGSTOP) loses the shard to another and stops touching it when it wakes', async () => {
    ws = workspace();
    const { files } = await planFromHub({ hub, ws, repos: ['bigcode/large'] });
    const big = files.find((f) => f.path === 'data/train.bin')!;
    hub.faults.bandwidth({ host: 'cdn', bytesPerSecond: 24 * 1024 * 1024 });
    const frozen = runWork(ws, hub, ['--task-id', '0', '--lease-ttl', '2']);
    await until(async () => (await partialSize(ws!, big.blob)) > 8 * 1024 * 1024, 30_000, 'some of the file on disk');
    frozen.child.kill('SIGSTOP');
    const held = shardState(ws).shard;
    await until(() => Date.now() > (held.leaseExpiresAt ?? 0) + 50, 10_000, 'lease expiry');
    hub.faults.clear();
    const taker = runWork(ws, hub, ['--task-id', '1', '--lease-ttl', '2']);
    await until(() => /claimed shard 0 \(fence 2\)/.test(taker.stderrSoFar()), 20_000, 'the takeover');
    frozen.child.kill('SIGCONT');
    const [a, b] = await Promise.all([frozen.done, taker.done]);
    expect(b.code).toBe(0);
    expect(a.stderr).toMatch(/lost the lease on shard 0/);
    expect(a.stderr).not.toMatch(/shard 0: (done|failed)/);
    expect(a.code).toBe(0);
    const { shard } = shardState(ws);
    expect(shard).toMatchObject({ state: 'done', owner: null });
    expect(await checkCache({ root: ws.root, hub, complete: files })).toEqual([]);
  });

  it.each(['SIGTERM', 'SIGINT', 'SIGUSR1'] as const)('%s: exit 75, progress flushed, lease released, partial kept', async (sig) => {
    ws = workspace();
    const { files } = await planFromHub({ hub, ws, repos: ['bigcode/large'] });
    const big = files.find((f) => f.path === 'data/train.bin')!;
    hub.faults.bandwidth({ host: 'cdn', bytesPerSecond: 16 * 1024 * 1024 });
    const run = runWork(ws, hub, ['--task-id', '0']);
    await until(async () => (await partialSize(ws!, big.blob)) > 8 * 1024 * 1024, 30_000, 'some of the file on disk');
    const sentAt = Date.now();
    run.child.kill(sig);
    const res = await within(run.done, 10_000, `exit after ${sig}`);
    expect(Date.now() - sentAt).toBeLessThan(10_000);
    expect(res.code).toBe(75);
    expect(res.stderr).toMatch(new RegExp(`${sig} received`));
    expect(res.stderr).toMatch(/released the lease on shard 0/);
    const { shard, bytesDone } = shardState(ws);
    expect(shard.state).toBe('pending');
    expect(shard.owner).toBeNull();
    expect(bytesDone).toBeGreaterThan(0);
    const kept = await partialSize(ws, big.blob);
    expect(kept).toBeGreaterThanOrEqual(bytesDone);
    expect(kept).toBeLessThan(SIZE);
  });
});

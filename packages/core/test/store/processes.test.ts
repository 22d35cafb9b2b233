// Real processes on one database file: the lease and fencing guarantees must hold across
// processes, not just connections. Children run the built code (npm test runs tsc -b first).
import { afterEach, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { StaleFenceError, claimShard, listShards, markFileDone, openStore, recentEvents, shardFiles, type Claim } from '../../src/index.js';
import { addPlan, testDb, type TestDb } from './helpers.js';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
const built = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
// Children must not inherit jest's --experimental-vm-modules.
const childEnv = { ...process.env, NODE_OPTIONS: '' };

let t: TestDb | undefined;
const children: ChildProcessWithoutNullStreams[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  t?.cleanup();
  t = undefined;
});

function start(script: string, args: (string | number)[]): ChildProcessWithoutNullStreams {
  if (!existsSync(built)) throw new Error(`${built} is missing: run \`npx tsc -b packages/core\` (npm test does) first`);
  const child = spawn(process.execPath, [fixture(script), ...args.map(String)], { env: childEnv });
  children.push(child);
  return child;
}

function exited(child: ChildProcessWithoutNullStreams): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stderr })));
}

/** Reads the child's stdout line by line for its whole life (so its 'close' event can fire). */
function lineReader(child: ChildProcessWithoutNullStreams): () => Promise<string> {
  const queued: string[] = [];
  const waiting: ((line: string | null) => void)[] = [];
  const rl = createInterface({ input: child.stdout });
  rl.on('line', (line) => (waiting.length ? waiting.shift()!(line) : queued.push(line)));
  rl.on('close', () => waiting.splice(0).forEach((w) => w(null)));
  return () =>
    queued.length
      ? Promise.resolve(queued.shift()!)
      : new Promise((resolve, reject) => waiting.push((line) => (line === null ? reject(new Error('child closed its stdout')) : resolve(line))));
}

describe('leases across processes', () => {
  it('16 processes claim and complete 2,000 shards: each exactly once, no SQLITE_BUSY escapes, database intact', async () => {
    t = testDb();
    const shards = 2000;
    const planId = addPlan(t.store, Array.from({ length: shards }, (_, i) => [1 + (i % 97)]));
    const procs = Array.from({ length: 16 }, (_, i) => {
      const log = join(t!.dir, `claimer-${i}.json`);
      const child = start('store-claimer.mjs', [t!.path, planId, i, log]);
      return { log, done: exited(child) };
    });
    const results = await Promise.all(procs.map((p) => p.done));
    for (const r of results) expect(r).toEqual({ code: 0, signal: null, stderr: '' });

    const logs = procs.map((p) => JSON.parse(readFileSync(p.log, 'utf8')) as { owner: string; completed: number[] });
    const all = logs.flatMap((l) => l.completed).sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: shards }, (_, i) => i)); // every shard, none twice

    const rows = listShards(t.store, planId);
    expect(rows.every((s) => s.state === 'done' && s.attempts === 1 && s.owner === null && s.filesDone === 1)).toBe(true);
    const claims = recentEvents(t.store, { kinds: ['claim'], limit: 10_000 });
    const finishes = recentEvents(t.store, { kinds: ['finish'], limit: 10_000 });
    expect(claims).toHaveLength(shards);
    expect(new Set(claims.map((e) => e.shardId)).size).toBe(shards);
    expect(finishes).toHaveLength(shards);
    // Each shard was finished by the process that logged it.
    const finishedBy = new Map(finishes.map((e) => [(e.detail as { index: number }).index, e.owner]));
    for (const l of logs) for (const idx of l.completed) expect(finishedBy.get(idx)).toBe(l.owner);
    expect(t.store.db.pragma('integrity_check', { simple: true })).toBe('ok');
  }, 180_000); // ~10 s on an idle disk; fsync latency under a loaded CI machine can be 10x

  it('a SIGKILLed holder loses its shard after expiry and its late writes are fenced off; so are a paused holder\'s', async () => {
    t = testDb();
    const planId = addPlan(t.store, [[100], [200]]);
    const ttlMs = 500;
    // This process sees the clock a little ahead: the children's leases have expired for it.
    const later = openStore({ path: t.path, now: () => Date.now() + ttlMs + 1 });
    try {
      // 1. Killed while holding shard 0.
      const killed = start('store-holder.mjs', [t.path, planId, 0, ttlMs]);
      const killedExit = exited(killed);
      const { claim: old, fileIds } = JSON.parse(await lineReader(killed)()) as { claim: Claim; fileIds: number[] };
      expect(old).toMatchObject({ index: 0, fence: 1 });
      killed.kill('SIGKILL');
      expect((await killedExit).signal).toBe('SIGKILL');

      const taken = claimShard(later, { planId, owner: 'successor', preferIndex: 0, ttlMs: 60_000 })!;
      expect(taken).toMatchObject({ index: 0, fence: old.fence + 1 });
      expect(() => markFileDone(later, old, { fileId: fileIds[0]! })).toThrow(StaleFenceError);
      expect(shardFiles(later, taken.shardId)[0]!.state).toBe('pending');
      expect(recentEvents(later, { kinds: ['claim'] }).at(-1)!.detail).toMatchObject({ previousOwner: old.owner, fence: 2 });

      // 2. Paused (SIGSTOP) while holding shard 1, resumed after the steal.
      const paused = start('store-holder.mjs', [t.path, planId, 1, ttlMs]);
      const pausedExit = exited(paused);
      const nextLine = lineReader(paused);
      const held = JSON.parse(await nextLine()) as { claim: Claim; fileIds: number[] };
      expect(held.claim).toMatchObject({ index: 1, fence: 1 });
      paused.kill('SIGSTOP');
      const stolen = claimShard(later, { planId, owner: 'thief', ttlMs: 60_000 })!;
      expect(stolen).toMatchObject({ index: 1, fence: 2 });
      paused.kill('SIGCONT');
      const answer = nextLine();
      paused.stdin.end('write\n'); // end: the child's stdin closes and it can exit
      expect(JSON.parse(await answer)).toEqual({
        progress: 'E_STALE_FENCE',
        markFileDone: 'E_STALE_FENCE',
        heartbeat: 'E_LEASE_LOST',
        finishShard: 'E_STALE_FENCE',
      });
      expect(await pausedExit).toEqual({ code: 0, signal: null, stderr: '' });

      // Nothing the stale holders tried reached the database.
      expect(shardFiles(later, stolen.shardId)[0]).toMatchObject({ state: 'pending', bytesDone: 0 });
      expect(listShards(later, planId).map((s) => [s.state, s.owner, s.fence, s.attempts])).toEqual([
        ['running', 'successor', 2, 2],
        ['running', 'thief', 2, 2],
      ]);
      expect(later.db.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      later.close();
    }
  });
});

// Readers never stall the writers, with real processes: `hfhpc work` tasks fetch from fakehub
// while status readers (child processes reading in a tight loop) hammer the database; then a
// second process switches the database to WAL under running tasks. Asserts outcomes only (no
// speed): every task finishes, no lease is lost, readers see progress growing, the journal
// ends up back in delete mode.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { openStore, recentEvents } from '@hfhpc/core';
import { startFakeHub, type FakeHub } from '@hfhpc/fakehub';
import { readStatus } from '../../src/status/index.js';
import { runCli, startCli, type CliResult } from './cli.js';

const READER = fileURLToPath(new URL('./status-reader.mjs', import.meta.url));
const REPO = 'bigcode/storm';
let hub: FakeHub;
let dir: string;

beforeAll(async () => {
  hub = await startFakeHub({
    config: { repos: [{ id: REPO, files: [{ path: 'README.md', text: '# storm\n' }], generate: { count: 40, prefix: 'data/', size: '64KiB', lfs: true, ext: '.bin', seed: 3 } }] },
    hashCacheDir: false,
  });
  // Slow enough that the tasks are still fetching while the readers read.
  hub.faults.bandwidth({ host: 'cdn', bytesPerSecond: 256 * 1024 });
  dir = mkdtempSync(path.join(tmpdir(), 'hfhpc-storm-'));
});

afterAll(async () => {
  await hub.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function planIn(name: string): Promise<{ common: string[]; dbPath: string }> {
  const root = path.join(dir, name);
  const manifest = path.join(dir, `${name}.yaml`);
  writeFileSync(manifest, `allow_prefixes: [bigcode/]\nroot: ${root}\ndatasets:\n  - repo: ${REPO}\n`);
  const common = ['--root', root, '--hub-url', hub.hubUrl, '--log-level', 'warn'];
  const plan = await runCli(['plan', '--manifest', manifest, '--shards', '4', '--json', ...common]);
  expect(plan.code).toBe(0);
  return { common, dbPath: path.join(root, '_hfhpc', 'state.sqlite') };
}

function startReader(dbPath: string): { ready: Promise<void>; stop: () => Promise<{ reads: number; errors: number; seen: [number, number][] }> } {
  const child = spawn(process.execPath, [READER, dbPath], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<void>((r) => child.on('close', () => r()));
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', () => out.includes('{"ready":true}') && resolve());
    void exited.then(() => reject(new Error(`status reader exited before its first read: ${err}`)));
  });
  return {
    ready,
    stop: async () => {
      child.stdin.end();
      await exited;
      if (!out.trim()) throw new Error(`status reader printed nothing: ${err}`);
      return JSON.parse(out.trim().split('\n').pop()!) as { reads: number; errors: number; seen: [number, number][] };
    },
  };
}

const lostLease = (r: CliResult): boolean => /lost the lease|lease .* is lost|stale/i.test(r.stderr);

describe('status readers and journal changes under running tasks', () => {
  it('8 status readers in tight loops: every task finishes, no lease is lost, readers see growing progress', async () => {
    const { common, dbPath } = await planIn('storm');
    const readers = Array.from({ length: 8 }, () => startReader(dbPath));
    await Promise.all(readers.map((r) => r.ready));
    const workers = Array.from({ length: 4 }, (_, i) =>
      startCli(['work', '--task-id', String(i), '--concurrency', '2', '--lease-ttl', '20', '--progress-interval', '1', ...common]),
    );
    const results = await Promise.all(workers.map((w) => w.done));
    const seen = await Promise.all(readers.map((r) => r.stop()));

    expect(results.map((r) => r.code)).toEqual([0, 0, 0, 0]);
    expect(results.filter(lostLease)).toEqual([]);
    const store = openStore({ path: dbPath, readonly: true });
    try {
      // No shard was taken over from an expired lease, none was expired.
      const claims = recentEvents(store, { kinds: ['claim', 'expire'], limit: 1000 });
      expect(claims.filter((e) => e.kind === 'expire' || (e.detail as { via?: string }).via === 'expired')).toEqual([]);
      const final = readStatus({ store });
      expect(final).toMatchObject({ state: 'done', totals: { files: 41, files_done: 41, files_failed: 0 } });
    } finally {
      store.close();
    }
    for (const r of seen) {
      expect(r.errors).toBe(0);
      expect(r.reads).toBeGreaterThan(0);
      for (let i = 1; i < r.seen.length; i++) expect(r.seen[i]![0]).toBeGreaterThanOrEqual(r.seen[i - 1]![0]);
      expect(r.seen.every(([, files]) => files === 41)).toBe(true);
    }
    // Progress went on while they read: some look caught the run half-way.
    expect(seen.some((r) => r.seen.some(([done]) => done > 0 && done < 41))).toBe(true);
  }, 300_000);

  it('a database switched to WAL by another process mid-run is switched back; the tasks finish', async () => {
    const { common, dbPath } = await planIn('wal');
    const workers = Array.from({ length: 2 }, (_, i) =>
      startCli(['work', '--task-id', String(i), '--concurrency', '1', '--lease-ttl', '20', '--progress-interval', '1', ...common]),
    );
    // Wait until the tasks have recorded some progress, then switch from outside.
    const reader = openStore({ path: dbPath, readonly: true });
    try {
      for (let i = 0; i < 600 && readStatus({ store: reader }).totals.files_done === 0; i++) await sleep(100);
    } finally {
      reader.close();
    }
    const other = new Database(dbPath, { timeout: 30_000 });
    expect(other.pragma('journal_mode = WAL', { simple: true })).toBe('wal');
    other.close();
    const results = await Promise.all(workers.map((w) => w.done));
    expect(results.map((r) => ({ code: r.code, err: r.code === 0 ? '' : r.stderr }))).toEqual([{ code: 0, err: '' }, { code: 0, err: '' }]);

    const raw = new Database(dbPath, { readonly: true });
    try {
      expect(raw.pragma('journal_mode', { simple: true })).toBe('delete');
    } finally {
      raw.close();
    }
    const store = openStore({ path: dbPath, readonly: true });
    try {
      expect(readStatus({ store }).totals).toMatchObject({ files: 41, files_done: 41 });
      expect(recentEvents(store, { kinds: ['journal-reset'] }).length).toBeGreaterThan(0);
    } finally {
      store.close();
    }
  }, 300_000);
});

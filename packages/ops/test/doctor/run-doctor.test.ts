import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { startFakeHub, type FakeHub } from '@hfhpc/fakehub';
import { formatDoctor, runDoctor, type DoctorReport } from '../../src/doctor/index.js';
import { makeCache, type CacheFixture } from '../verify/cache-fixture.js';

const TOKEN = 'hf_doctorTestToken0123456789abcdef';
let hub: FakeHub;
let bin: string;
let fx: CacheFixture | undefined;

beforeAll(async () => {
  hub = await startFakeHub({ config: { tokens: [{ token: TOKEN, user: 'ops-user' }], repos: [{ id: 'bigcode/x', files: [{ path: 'a', text: 'a' }] }] } });
  // Stand-ins for the Slurm commands: doctor only looks them up on PATH.
  bin = mkdtempSync(path.join(tmpdir(), 'hfhpc-doctor-bin-'));
  for (const cmd of ['sbatch', 'squeue']) {
    writeFileSync(path.join(bin, cmd), '#!/bin/sh\nexit 0\n');
    chmodSync(path.join(bin, cmd), 0o755);
  }
});
afterAll(async () => {
  await hub.stop();
  rmSync(bin, { recursive: true, force: true });
});
afterEach(() => {
  fx?.cleanup();
  fx = undefined;
});

const byId = (r: DoctorReport): Record<string, { status: string; detail: string; fix?: string }> => Object.fromEntries(r.checks.map((c) => [c.id, c]));

function fixture(): CacheFixture {
  return (fx = makeCache({ files: [{ repo: 'bigcode/x', path: 'a', content: 'a', shard: 0 }, { repo: 'bigcode/x', path: 'big', content: 'b'.repeat(2000), shard: 0, state: 'pending' }] }));
}

describe('runDoctor', () => {
  it('passes on a healthy setup: every check ok, one line each, the token never shown', async () => {
    const f = fixture();
    const r = await runDoctor({ root: f.root, dbPath: f.dbPath, hubUrl: hub.hubUrl, env: { HF_TOKEN: TOKEN, PATH: bin } });
    expect(r.checks.map((c) => c.id)).toEqual([
      'node', 'token', 'hub', 'token-valid', 'root', 'space', 'sqlite-locking', 'journal-mode', 'quick-check', 'schema', 'database-mode', 'sbatch', 'squeue',
    ]);
    expect(r.checks.filter((c) => c.status !== 'ok')).toEqual([]);
    expect(r.ok).toBe(true);
    const c = byId(r);
    expect(c.token?.detail).toBe('token found in HF_TOKEN');
    expect(c['token-valid']?.detail).toContain('ops-user');
    expect(c.space?.detail).toMatch(/still to fetch/);
    const text = formatDoctor(r);
    expect(text.split('\n').filter((l) => l.startsWith('✓'))).toHaveLength(13);
    expect(text + JSON.stringify(r)).not.toContain(TOKEN);
    // whoami is rate-limited hard on the real Hub: one call per run.
    expect(hub.requests.filter((q) => q.path.includes('whoami')).length).toBe(1);
  });

  it('fails a revoked token, an old Node and a missing root, each with a fix; warns when Slurm is absent', async () => {
    const missing = path.join(tmpdir(), `hfhpc-nope-${process.pid}`);
    const r = await runDoctor({ root: missing, dbPath: path.join(missing, '_hfhpc', 'state.sqlite'), hubUrl: hub.hubUrl, nodeVersion: '20.18.3', env: { HF_TOKEN: 'hf_revokedRevokedRevoked0000', PATH: '' } });
    const c = byId(r);
    expect(r.ok).toBe(false);
    expect(c.node).toMatchObject({ status: 'fail', fix: expect.stringContaining('20.19') });
    expect(c['token-valid']).toMatchObject({ status: 'fail', detail: expect.stringContaining('401') });
    expect(c.root).toMatchObject({ status: 'fail', fix: expect.stringContaining('mkdir -p') });
    expect(c.database).toMatchObject({ status: 'skip' });
    expect(c.sbatch).toMatchObject({ status: 'warn', fix: expect.stringContaining('run --local') });
    expect(formatDoctor(r)).toMatch(/^✗ node/m);
    expect(formatDoctor(r)).not.toContain('hf_revokedRevokedRevoked0000');
  });

  it('an unreachable Hub fails and the token is then not checked', async () => {
    const f = fixture();
    const r = await runDoctor({ root: f.root, dbPath: f.dbPath, hubUrl: 'http://127.0.0.1:9', env: { HF_TOKEN: TOKEN, PATH: bin }, timeoutMs: 5000 });
    expect(byId(r).hub).toMatchObject({ status: 'fail', detail: expect.stringContaining('not reachable') });
    expect(byId(r)['token-valid']).toMatchObject({ status: 'skip' });
  });

  it('no token is a warning: public datasets work without one', async () => {
    const f = fixture();
    const home = mkdtempSync(path.join(tmpdir(), 'hfhpc-home-'));
    try {
      const r = await runDoctor({ root: f.root, dbPath: f.dbPath, hubUrl: hub.hubUrl, env: { HF_HOME: home, PATH: bin } });
      expect(byId(r).token).toMatchObject({ status: 'warn', detail: expect.stringContaining(path.join(home, 'token')) });
      expect(byId(r)['token-valid']).toMatchObject({ status: 'skip' });
      expect(r.ok).toBe(true);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('flags a WAL database, a newer schema and a world-writable database file', async () => {
    const f = fixture();
    f.store.close();
    const db = new Database(f.dbPath);
    db.pragma('journal_mode = WAL');
    db.prepare('UPDATE schema_version SET version = 99').run();
    db.close();
    chmodSync(f.dbPath, 0o666);
    const r = await runDoctor({ root: f.root, dbPath: f.dbPath, hubUrl: hub.hubUrl, env: { PATH: bin } });
    const c = byId(r);
    expect(c['journal-mode']).toMatchObject({ status: 'fail', detail: expect.stringContaining('WAL') });
    expect(c.schema).toMatchObject({ status: 'fail', detail: expect.stringContaining('newer') });
    expect(c['database-mode']).toMatchObject({ status: 'fail', fix: `chmod o-w ${f.dbPath}` });
    expect(c['quick-check']).toMatchObject({ status: 'ok' });
  });

  it('compares free space with the bytes the plan still has to fetch', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'hfhpc-space-'));
    const small = path.join(dir, 'fs');
    mkdirSync(small);
    const { execFileSync } = await import('node:child_process');
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', small]);
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`this test mounts a 1 MiB tmpfs and needs root: ${(err as Error).message}`);
    }
    try {
      const f = makeCache({ root: small, files: [{ repo: 'bigcode/x', path: 'huge', content: 'h'.repeat(3 << 20), shard: 0, state: 'pending' }] });
      const r = await runDoctor({ root: small, dbPath: f.dbPath, hubUrl: hub.hubUrl, env: { PATH: bin } });
      f.store.close();
      expect(byId(r).space).toMatchObject({ status: 'fail', detail: expect.stringMatching(/free on .*3 MiB still to fetch/) });
      expect(byId(r)['sqlite-locking']).toMatchObject({ status: 'ok' });
    } finally {
      execFileSync('umount', [small]);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

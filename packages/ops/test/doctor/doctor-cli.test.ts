// `hfhpc doctor` as a real process on a read-only root: the checks that need to write fail
// with the fix, the read-only ones still report, and the exit code is 1.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { startFakeHub, type FakeHub } from '@hfhpc/fakehub';
import type { DoctorReport } from '../../src/doctor/index.js';
import { runCli } from '../status/cli.js';
import { makeCache, type CacheFixture } from '../verify/cache-fixture.js';

let hub: FakeHub;
let fx: CacheFixture;
let ro: string;
let mounted = false;

beforeAll(async () => {
  hub = await startFakeHub({ config: { repos: [{ id: 'bigcode/x', files: [{ path: 'a', text: 'a' }] }] }, hashCacheDir: false });
  fx = makeCache({ files: [{ repo: 'bigcode/x', path: 'a', content: 'a', shard: 0 }] });
  fx.store.close();
  ro = `${fx.root}-ro`;
  mkdirSync(ro);
  // chmod does not stop root: a read-only bind mount of the root does.
  execFileSync('mount', ['--bind', fx.root, ro]);
  mounted = true;
  execFileSync('mount', ['-o', 'remount,bind,ro', ro]);
});

afterAll(async () => {
  if (mounted) execFileSync('umount', [ro]);
  rmSync(ro, { recursive: true, force: true });
  rmSync(fx.root, { recursive: true, force: true });
  await hub.stop();
});

describe('hfhpc doctor (child process)', () => {
  it('on a read-only root: exit 1, root and locking fail with a fix, the database is still checked', async () => {
    const r = await runCli(['doctor', '--json', '--root', ro, '--hub-url', hub.hubUrl], { HF_TOKEN: '', HF_TOKEN_PATH: path.join(fx.root, 'no-token') });
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as DoctorReport;
    const c = Object.fromEntries(report.checks.map((x) => [x.id, x]));
    expect(report.ok).toBe(false);
    expect(c.root).toMatchObject({ status: 'fail', detail: expect.stringContaining('EROFS'), fix: expect.stringContaining('read-only') });
    expect(c['sqlite-locking']).toMatchObject({ status: 'fail', fix: expect.stringContaining('writable') });
    expect(c['journal-mode']).toMatchObject({ status: 'ok' });
    expect(c['quick-check']).toMatchObject({ status: 'ok' });
    expect(c.schema).toMatchObject({ status: 'ok' });
    expect(c.hub).toMatchObject({ status: 'ok' });
  });

  it('text output: one line per check with ✓ or ✗, exit 0 when nothing fails', async () => {
    const r = await runCli(['doctor', '--root', fx.root, '--hub-url', hub.hubUrl], { HF_TOKEN: '', HF_TOKEN_PATH: path.join(fx.root, 'no-token') });
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.filter((l) => /^[✓✗!-] /.test(l)).length).toBe(13);
    expect(lines[lines.length - 1]).toMatch(/^all checks passed/);
    expect(r.stdout).toMatch(/^✓ sqlite-locking/m);
  });
});

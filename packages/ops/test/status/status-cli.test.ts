// `hfhpc status` output modes as a real process: --watch without a terminal, prometheus to a
// file, and the clear error for a missing database.
import { afterEach, describe, expect, it } from '@jest/globals';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { markFileFailed, claimShard } from '@hfhpc/core';
import { spawnSync } from 'node:child_process';
import { HFHPC_BIN, runCli } from './cli.js';
import { makeCache, type CacheFixture } from '../verify/cache-fixture.js';

const A = 'bigcode/status-cli';
let fx: CacheFixture | undefined;
afterEach(() => fx?.cleanup());

function fixture(): CacheFixture {
  const f = (fx = makeCache({
    files: [
      { repo: A, path: 'ok.txt', content: 'ok', shard: 0 },
      { repo: A, path: 'bad.parquet', content: 'b'.repeat(100), lfs: true, shard: 1, state: 'pending' },
    ],
  }));
  const c = claimShard(f.store, { planId: f.planId, owner: '5_1@n:1', preferIndex: 1, ttlMs: 60_000 })!;
  markFileFailed(f.store, c, { fileId: f.fileId(A, 'bad.parquet'), error: 'gated: accept the terms at http://127.0.0.1:9/datasets/bigcode/status-cli' });
  return f;
}

describe('hfhpc status (child process)', () => {
  it('--watch N --count 2 without a terminal prints plain repeated reports, then exits 0', async () => {
    const f = fixture();
    const r = await runCli(['status', '--watch', '0.2', '--count', '2', '--no-slurm', '--root', f.root]);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('\x1b[');
    expect(r.stdout.match(/^plan \d+ · /gm)).toHaveLength(2);
    expect(r.stdout).toContain('1 × gated: accept the terms at <url>');
    expect(r.stdout).toContain('hfhpc plan --resubmit-failed');
  });

  it('--watch on a terminal redraws in place (ANSI home + clear before each report)', async () => {
    const f = fixture();
    // `script` gives the CLI a pseudo-terminal, as an operator's shell would.
    const cmd = [process.execPath, HFHPC_BIN, 'status', '--watch', '0.1', '--count', '2', '--no-slurm', '--root', f.root].map((a) => `'${a}'`).join(' ');
    const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout.split('\x1b[H\x1b[2J').filter((chunk) => chunk.includes('plan '))).toHaveLength(2);
  });

  it('--watch --json prints one JSON object per line', async () => {
    const f = fixture();
    const r = await runCli(['status', '--watch', '0.1', '--count', '3', '--json', '--no-slurm', '--db', f.dbPath]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    for (const l of lines) expect(JSON.parse(l)).toMatchObject({ totals: { files: 2, files_done: 1, files_failed: 1 }, failures: [{ repo: A, path: 'bad.parquet' }] });
  });

  it('--format prometheus --output writes node_exporter textfile metrics', async () => {
    const f = fixture();
    const out = path.join(f.root, 'hfhpc.prom');
    const r = await runCli(['status', '--format', 'prometheus', '--output', out, '--no-slurm', '--root', f.root]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    const text = readFileSync(out, 'utf8');
    expect(text).toContain(`hfhpc_files_failed{plan="${f.planId}",repo="${A}",revision="main"} 1`);
    expect(text).toContain(`hfhpc_bytes{plan="${f.planId}",repo="${A}",revision="main"} 102`);
    // Every sample line is `name{labels} value`.
    for (const l of text.trim().split('\n').filter((x) => !x.startsWith('#'))) expect(l).toMatch(/^hfhpc_[a-z_]+\{[^}]*\} -?[0-9.e+]+$/);
  });

  it('a missing database is a clear error, exit 1', async () => {
    const f = fixture();
    const r = await runCli(['status', '--db', path.join(f.root, 'nope.sqlite')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no state database at');
  });

  it('--watch ends by itself (exit 0) once the plan is done, with no --count', async () => {
    const f = (fx = makeCache({ files: [{ repo: A, path: 'ok.txt', content: 'ok', shard: 0 }] }));
    const r = await runCli(['status', '--watch', '0.1', '--no-slurm', '--manifest', writeManifest(f.root)]);
    expect(r.code).toBe(0);
    expect(r.stdout.match(/^plan \d+ · /gm)).toHaveLength(1);
  });

  it('refuses a --watch, --count or --plan-id out of bounds as bad input (exit 2) naming the option, never as an internal error', async () => {
    const f = fixture();
    for (const [args, flag] of [
      [['--watch', '-1'], '--watch'],
      [['--watch', '0'], '--watch'],
      [['--watch', 'NaN'], '--watch'],
      [['--watch', '1e20'], '--watch'],
      [['--watch', '1', '--count', '0'], '--count'],
      [['--plan-id', 'NaN'], '--plan-id'],
      [['--rate-window', '1e20'], '--rate-window'],
    ] as const) {
      const r = await runCli(['status', '--no-slurm', '--root', f.root, ...args]);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).toContain(`Expected ${flag} to be`);
      expect(r.stderr).not.toContain('internal error');
    }
  });

  it('--manifest locates the database through the manifest root (no --root)', async () => {
    const f = fixture();
    const r = await runCli(['status', '--json', '--no-slurm', '--manifest', writeManifest(f.root)]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ plan_id: f.planId });
  });
});

/** A manifest in the root whose `root:` is its own folder (relative, as users write it). */
function writeManifest(root: string): string {
  const file = path.join(root, 'manifest.yaml');
  writeFileSync(file, `root: .\nallow_prefixes: [bigcode/]\ndatasets:\n  - repo: ${A}\n`);
  return file;
}

// The documented way to start hfhpc (the README: node_modules/.bin on PATH, then `hfhpc …`)
// starts node itself, so `kill -TERM` on the process it started reaches hfhpc: `hfhpc run
// --local` stops its workers, gives their leases back and exits 75. (`npx hfhpc` does not
// forward SIGTERM to its child: killing npx leaves hfhpc and its workers running.)
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync, spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { listShards, openStore } from '@hfhpc/core';
import { startFakeHub, type FakeHub } from '@hfhpc/fakehub';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN_DIR = path.join(REPO_ROOT, 'node_modules', '.bin');

let hub: FakeHub;
let dir: string;

beforeAll(async () => {
  // What `npm ci` / `npm run build` do after compiling: the bin executable and linked.
  try {
    accessSync(path.join(BIN_DIR, 'hfhpc'), constants.X_OK);
  } catch {
    execFileSync(process.execPath, [path.join(REPO_ROOT, 'scripts', 'link-bins.mjs')]);
  }
  hub = await startFakeHub({ config: { repos: [{ id: 'bigcode/slow', files: [{ path: 'a.bin', size: '8MiB', lfs: true }, { path: 'b.bin', size: '8MiB', lfs: true }] }] }, hashCacheDir: false });
  dir = mkdtempSync(path.join(tmpdir(), 'hfhpc-launcher-'));
});

afterAll(async () => {
  await hub.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Pids of live processes whose command line contains `needle` (from /proc). */
function processesWith(needle: string): number[] {
  const out: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      if (readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').join(' ').includes(needle)) out.push(Number(p));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

const until = async (cond: () => boolean, ms: number, what: string): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe('the documented launcher forwards signals', () => {
  it('kill -TERM on `hfhpc run --local` (node_modules/.bin on PATH): workers stop, leases released, exit 75', async () => {
    const root = path.join(dir, 'root');
    const manifest = path.join(dir, 'manifest.yaml');
    writeFileSync(manifest, `allow_prefixes: [bigcode/]\nroot: ${root}\ndatasets:\n  - repo: bigcode/slow\n`);
    hub.faults.bandwidth({ host: 'cdn', bytesPerSecond: 512 * 1024 });
    const child = spawn('hfhpc', ['run', '--manifest', manifest, '--local', '-j', '2', '--hub-url', hub.hubUrl], {
      env: { PATH: `${BIN_DIR}:${process.env.PATH}`, HOME: dir, HF_HOME: path.join(dir, 'hf-home') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout!.resume();
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      // Both array tasks' workers are downloading (each holds a lease).
      await until(() => (stderr.match(/claimed shard/g) ?? []).length >= 2, 60_000, 'two workers holding a shard');
      expect(processesWith(`work --plan-id`).filter((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(root)).length).toBe(2);
      process.kill(child.pid!, 'SIGTERM');
      expect(await exited).toBe(75);
      // No hfhpc process of this run is left, and no shard is still leased.
      expect(processesWith(root)).toEqual([]);
      const store = openStore({ path: path.join(root, '_hfhpc', 'state.sqlite'), create: false });
      try {
        expect(listShards(store, 1).filter((s) => s.owner !== null)).toEqual([]);
      } finally {
        store.close();
      }
      expect(stderr).toMatch(/released the lease/);
    } finally {
      for (const pid of processesWith(root)) process.kill(pid, 'SIGKILL');
    }
  });
});

describe('the README documents that launcher', () => {
  it('its cluster commands run hfhpc from node_modules/.bin, never through npx or npm exec', () => {
    const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
    const cluster = readme.slice(readme.indexOf('## On a cluster'), readme.indexOf('\n## ', readme.indexOf('## On a cluster') + 1));
    const commands = cluster.slice(cluster.indexOf('```sh'), cluster.indexOf('```', cluster.indexOf('```sh') + 5));
    expect(commands).toContain('export PATH="$PWD/node_modules/.bin:$PATH"');
    expect(commands).toMatch(/^hfhpc plan /m);
    expect(commands).not.toMatch(/\bnpx\b|npm exec/);
    // and says why
    expect(cluster).toMatch(/npx[^.]*does not pass SIGTERM|npm does not pass SIGTERM/);
  });
});

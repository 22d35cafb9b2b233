// `hfhpc plan` (the built CLI, a child process) against fakehub serving 20,000 tiny files:
// shards by cost, not bytes alone, so the array has work for every task it may run at once.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { latestPlan, listShards } from '@hfhpc/core';
import { startFakeHub, type FakeHub } from '@hfhpc/fakehub';
import { withStore } from './plan-helpers.js';

const BIN = fileURLToPath(new URL('../../cli/dist/bin.js', import.meta.url));
const FILES = 20_000;

let hub: FakeHub;
let dir: string;
beforeAll(async () => {
  hub = await startFakeHub({
    config: { repos: [{ id: 'org/tiny', generate: { count: FILES, prefix: 'data/', size: [20, 200], lfs: false, perDir: 1000, ext: '.json' } }] },
    hashCacheDir: false,
  });
  dir = await mkdtemp(path.join(tmpdir(), 'hfhpc-plan-tiny-'));
});
afterAll(async () => {
  await hub?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function plan(name: string, args: string[]) {
  const root = path.join(dir, name);
  const manifest = path.join(dir, `${name}.json`);
  await writeFile(manifest, JSON.stringify({ allow_prefixes: ['org/'], root, datasets: [{ repo: 'org/tiny' }] }));
  // Async (not spawnSync): fakehub answers from this process's event loop.
  const r = await execa(process.execPath, [BIN, 'plan', '--manifest', manifest, '--json', ...args], {
    reject: false,
    extendEnv: false,
    env: { HF_HOME: path.join(dir, 'hf-home'), HOME: dir, HF_ENDPOINT: hub.hubUrl },
  });
  return { r, dbPath: path.join(root, '_hfhpc', 'state.sqlite') };
}

describe('hfhpc plan with 20,000 tiny files', () => {
  it('default settings at --max-parallel 8: at least 8 shards in the database, none over 2,000 files', async () => {
    const { r, dbPath } = await plan('default', ['--max-parallel', '8']);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.exitCode).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.files).toBe(FILES);
    const shards = withStore(dbPath, (s) => listShards(s, latestPlan(s)?.id ?? -1));
    expect(shards.length).toBeGreaterThanOrEqual(8);
    expect(out.shards).toBe(shards.length);
    expect(shards.reduce((a, s) => a + s.filesTotal, 0)).toBe(FILES);
    const counts = shards.map((s) => s.filesTotal);
    expect(Math.max(...counts)).toBeLessThanOrEqual(2000);
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
  }, 120_000);

  it('--max-files-per-shard sets the cap (the array fill still applies)', async () => {
    const { r, dbPath } = await plan('capped', ['--max-parallel', '2', '--max-files-per-shard', '5000']);
    expect(r.exitCode).toBe(0);
    const shards = withStore(dbPath, (s) => listShards(s, latestPlan(s)?.id ?? -1));
    expect(shards.map((s) => s.filesTotal)).toEqual([5000, 5000, 5000, 5000]);
  }, 120_000);
});

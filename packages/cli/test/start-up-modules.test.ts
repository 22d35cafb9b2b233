// What a command loads decides how fast it starts (status is polled by scripts and exporters):
// `hfhpc status` and `hfhpc --help` must not load the download, listing or logging libraries.
// Checked on the built CLI, by the modules the process loaded, not by timing it.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPlan, openStore } from '@hfhpc/core';

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const LIST = fileURLToPath(new URL('./fixtures/list-modules.mjs', import.meta.url));
const HEAVY = ['execa', 'fast-glob', 'got', 'winston', '@huggingface/hub'];

let dir: string;
let dbPath: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'hfhpc-start-up-'));
  dbPath = path.join(dir, '_hfhpc', 'state.sqlite');
  const store = openStore({ path: dbPath });
  createPlan(store, {
    manifestPath: path.join(dir, 'm.yaml'),
    manifestSha256: 'ab'.repeat(32),
    root: dir,
    hubUrl: 'http://127.0.0.1:9',
    datasets: [{ repo: 'org/a', revision: 'main', commitSha: 'c'.repeat(40) }],
    shards: [{ idx: 0, bytesTotal: 3, filesTotal: 1 }],
    files: [{ datasetRepo: 'org/a', path: 'x', size: 3, oid: 'a'.repeat(40), lfsSha256: null, blob: 'a'.repeat(40), shardIdx: 0, state: 'pending' }],
  });
  store.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The third-party packages among the modules `hfhpc <args>` loaded. */
function packagesLoaded(args: string[]): { code: number | null; stdout: string; packages: Set<string> } {
  const r = spawnSync(process.execPath, ['--import', LIST, BIN, ...args], { encoding: 'utf8' });
  const packages = new Set<string>();
  for (const line of r.stderr.split('\n')) {
    const m = /^module .*\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(line);
    if (m) packages.add(m[1] as string);
  }
  return { code: r.status, stdout: r.stdout, packages };
}

describe('start-up: what a command loads', () => {
  test('the module list sees both ES and CommonJS packages', () => {
    // yargs is CommonJS (required), better-sqlite3 imported: the check would see heavy ones.
    const { code, packages } = packagesLoaded(['--help']);
    expect(code).toBe(0);
    expect(packages).toContain('yargs');
    expect(packages).toContain('better-sqlite3');
  });

  test.each([
    ['status --json --no-slurm', ['status', '--json', '--no-slurm']],
    ['status --json (a plan without job ids asks no scheduler)', ['status', '--json']],
    ['status (text)', ['status', '--no-slurm']],
    ['--help', ['--help']],
  ])('%s loads none of execa, fast-glob, got, winston, @huggingface/hub', (_name, args) => {
    const { code, stdout, packages } = packagesLoaded(args[0] === 'status' ? [...args, '--db', dbPath] : args);
    expect(code).toBe(0);
    if (args.includes('--json')) expect(JSON.parse(stdout)).toMatchObject({ totals: { files: 1, files_done: 0 } });
    expect(HEAVY.filter((p) => packages.has(p))).toEqual([]);
  });
});

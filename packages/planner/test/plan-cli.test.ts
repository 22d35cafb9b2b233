// `hfhpc plan` as a real child process (the built CLI), for what only the process shows: exit
// codes, stdout JSON, stderr messages, and sbatch found on PATH.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { latestPlan } from '@hfhpc/core';
import { formatArraySpec } from '@hfhpc/scheduler';
import { failShards, planFiles, pretendDone, setup, withStore, type TestEnv } from './plan-helpers.js';

const BIN = fileURLToPath(new URL('../../cli/dist/bin.js', import.meta.url));

let t: TestEnv;
let fakeBin: string;
beforeEach(async () => {
  t = await setup();
  // A fake sbatch that records its arguments, prints a job id or fails like the real one.
  fakeBin = path.join(t.dir, 'bin');
  await mkdir(fakeBin);
  await writeFile(
    path.join(fakeBin, 'sbatch'),
    `#!/bin/sh
echo "$@" >> "${t.dir}/sbatch.log"
if [ -n "$FAKE_SBATCH_FAIL" ]; then echo "sbatch: error: Batch job submission failed: Invalid account or account/partition combination specified" >&2; exit 1; fi
n=$(wc -l < "${t.dir}/sbatch.log")
echo "$((7000 + n))"
`,
  );
  await chmod(path.join(fakeBin, 'sbatch'), 0o755);
});
afterEach(async () => {
  await t.close();
});

async function hfhpc(args: string[], extraEnv: NodeJS.ProcessEnv = {}) {
  // Async (not spawnSync): fakehub answers from this process's event loop.
  return execa(process.execPath, [BIN, 'plan', ...args], {
    reject: false,
    extendEnv: false,
    env: { ...t.env, PATH: `${fakeBin}:${process.env.PATH}`, ...extraEnv },
  });
}

const sbatchCalls = async () => (await readFile(path.join(t.dir, 'sbatch.log'), 'utf8')).trim().split('\n');

describe('hfhpc plan (child process)', () => {
  it('--submit --json: runs sbatch --parsable on the script and prints the documented object', async () => {
    const m = await t.manifest({ datasets: [{ repo: 'org/many', include: ['data/**'] }, { repo: 'org/twin' }] });
    const r = await hfhpc(['--manifest', m, '--shards', '4', '--submit', '--json', '--max-parallel', '2', '--partition', 'dl', '--worker-heap', '96']);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.exitCode).toBe(0);
    const out = JSON.parse(r.stdout);
    const script = path.join(t.root, '_hfhpc', 'plans', '1', 'download.sbatch');
    expect(out).toMatchObject({ plan_id: 1, files: 54, shards: 4, scripts: [script], job_ids: ['7001'] });
    expect(Object.keys(out)).toEqual(expect.arrayContaining(['plan_id', 'datasets', 'files', 'bytes', 'shards', 'scripts', 'job_ids']));
    expect(out.datasets.map((d: { repo: string; files: number }) => [d.repo, d.files])).toEqual([['org/many', 52], ['org/twin', 2]]);
    expect(await sbatchCalls()).toEqual([`--parsable ${script}`]);
    const text = await readFile(script, 'utf8');
    expect(text).toContain('#SBATCH --array=0-3%2');
    expect(text).toContain('#SBATCH --partition=dl');
    expect(text).toContain(`${process.execPath} --max-old-space-size=96 --max-semi-space-size=2 ${BIN} work --plan-id 1`);
    expect(withStore(t.dbPath, (s) => latestPlan(s)?.jobIds)).toEqual(['7001']);
    expect(r.stderr).toContain('pinned to'); // logs go to stderr, not into the JSON
  });

  it('a failing sbatch shows its stderr and exits 1 (the plan stays stored)', async () => {
    const m = await t.manifest({ datasets: [{ repo: 'org/twin' }] });
    const r = await hfhpc(['--manifest', m, '--submit'], { FAKE_SBATCH_FAIL: '1' });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('Invalid account or account/partition combination specified');
    expect(withStore(t.dbPath, (s) => latestPlan(s)?.id)).toBe(1);
  });

  it('exit 2 and nothing stored for a hostile path, naming repo and path', async () => {
    t.hub.faults.hostileTreeEntry({ repo: 'org/many' });
    const m = await t.manifest({ datasets: [{ repo: 'org/many' }] });
    const r = await hfhpc(['--manifest', m, '--json']);
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/unsafe path "\.\.\/\.\.\/etc\/passwd" in org\/many/);
    expect(existsSync(t.dbPath)).toBe(false);
  });

  it('exit 2 before any request for a repo outside the allow-list', async () => {
    const m = await t.manifest({ allow_prefixes: ['org/'], datasets: [{ repo: 'other/many' }] });
    const r = await hfhpc(['--manifest', m]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('other/many');
    expect(t.hub.requests).toHaveLength(0);
  });

  it('exit 2 for a gated repo without a token, naming the repo and the page to request access', async () => {
    const m = await t.manifest({ datasets: [{ repo: 'org/gated' }] });
    const r = await hfhpc(['--manifest', m]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('org/gated is a gated dataset');
    expect(r.stderr).toContain(`${t.hub.hubUrl}/datasets/org/gated`);
  });

  it('--dry-run prints the plan and writes nothing', async () => {
    const m = await t.manifest({ datasets: [{ repo: 'org/many' }] });
    const r = await hfhpc(['--manifest', m, '--dry-run', '--shard-size', '10kB']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^dry run \(nothing written\): 1 dataset\(s\), 55 files/);
    expect(r.stdout).toContain('org/many main → ');
    expect(existsSync(t.root)).toBe(false);
    expect(existsSync(path.join(t.dir, 'sbatch.log'))).toBe(false);
  });

  it('--resubmit-failed submits an array of just the failed indices', async () => {
    const m = await t.manifest({ datasets: [{ repo: 'org/many' }] });
    expect((await hfhpc(['--manifest', m, '--shards', '20', '--submit'])).exitCode).toBe(0);
    failShards(t.dbPath, 1, [3, 17, 12]);
    const r = await hfhpc(['--resubmit-failed', '--root', t.root, '--json', '--max-parallel', '8']);
    expect(r.exitCode).toBe(0);
    const script = path.join(t.root, '_hfhpc', 'plans', '1', 'resubmit.sbatch');
    expect(JSON.parse(r.stdout)).toEqual({ plan_id: 1, dry_run: false, shards: [3, 12, 17], scripts: [script], job_ids: ['7002'] });
    expect((await sbatchCalls())[1]).toBe(`--parsable ${script}`);
    expect(await readFile(script, 'utf8')).toContain('#SBATCH --array=3,12,17%3');
  });

  it('exit 2 for bad usage: no manifest, both --shards and --shard-size', async () => {
    expect((await hfhpc([])).exitCode).toBe(2);
    const m = await t.manifest({ datasets: [{ repo: 'org/many' }] });
    const r = await hfhpc(['--manifest', m, '--shards', '2', '--shard-size', '1GB']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('either --shards or --shard-size');
    expect(t.hub.requests).toHaveLength(0);
  });

  it('--resubmit-failed --manifest finds the plan through the manifest root (no --root, another cwd)', async () => {
    const m = await t.manifest({ datasets: [{ repo: 'org/many' }] });
    expect((await hfhpc(['--manifest', m, '--shards', '5', '--submit'])).exitCode).toBe(0);
    failShards(t.dbPath, 1, [2]);
    const r = await execa(process.execPath, [BIN, 'plan', '--resubmit-failed', '--manifest', m, '--json'], {
      reject: false,
      extendEnv: false,
      cwd: fakeBin, // no ./datasets here: only the manifest says where the root is
      env: { ...t.env, PATH: `${fakeBin}:${process.env.PATH}` },
    });
    expect({ code: r.exitCode, stderr: r.exitCode === 0 ? '' : r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(r.stdout)).toMatchObject({ plan_id: 1, shards: [2], job_ids: ['7002'] });
  });

  it('a plan with nothing to fetch writes no script and submits nothing, and says so', async () => {
    const m = await t.manifest({ datasets: [{ repo: 'org/twin' }] });
    expect((await hfhpc(['--manifest', m, '--submit'])).exitCode).toBe(0);
    const commit = latestCommit(t.dbPath);
    await pretendDone({ dbPath: t.dbPath, root: t.root, planId: 1, repo: 'org/twin', commit, paths: ['copy.parquet', 'x.parquet'] });
    const json = await hfhpc(['--manifest', m, '--submit', '--json']);
    expect(json.exitCode).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ plan_id: 2, bytes_to_fetch: 0, shards_to_run: [], scripts: [], job_ids: [] });
    const text = await hfhpc(['--manifest', m, '--submit']);
    expect(text.exitCode).toBe(0);
    expect(text.stdout).toContain('nothing to fetch: every file is done, so no script was written and nothing submitted');
    expect(await sbatchCalls()).toHaveLength(1); // only the first plan's array
    expect(existsSync(path.join(t.root, '_hfhpc', 'plans', '2', 'download.sbatch'))).toBe(false);
  });

  it('a repair plan (two files to fetch again) submits an array of just the shards that have work', async () => {
    const m = await t.manifest({ datasets: [{ repo: 'org/many', include: ['data/train/**'] }] });
    expect((await hfhpc(['--manifest', m, '--shards', '8', '--submit'])).exitCode).toBe(0);
    const files = planFiles(t.dbPath, 1);
    const commit = latestCommit(t.dbPath);
    const again = [files[3]!.path, files[30]!.path];
    await pretendDone({ dbPath: t.dbPath, root: t.root, planId: 1, repo: 'org/many', commit, paths: files.map((f) => f.path).filter((p) => !again.includes(p)) });
    const r = await hfhpc(['--manifest', m, '--shards', '8', '--submit', '--json']);
    expect(r.exitCode).toBe(0);
    const out = JSON.parse(r.stdout) as { shards: number; shards_to_run: number[]; scripts: string[] };
    const withWork = [...new Set(planFiles(t.dbPath, 2).filter((f) => f.state !== 'done').map((f) => f.shard))].sort((a, b) => a - b);
    expect(withWork.length).toBeGreaterThanOrEqual(1);
    expect(withWork.length).toBeLessThanOrEqual(2);
    expect(out.shards).toBe(8);
    expect(out.shards_to_run).toEqual(withWork);
    const script = await readFile(out.scripts[0]!, 'utf8');
    expect(script).toMatch(new RegExp(`#SBATCH --array=${formatArraySpec({ indices: withWork })}(%\\d+)?\n`));
    expect(script).not.toContain('--array=0-7');
    expect(await sbatchCalls()).toHaveLength(2);
  });

  it('exit 2 for a repo or a revision that does not exist, naming it', async () => {
    const noRepo = await hfhpc(['--manifest', await t.manifest({ datasets: [{ repo: 'org/does-not-exist' }] })]);
    expect(noRepo.exitCode).toBe(2);
    expect(noRepo.stderr).toContain('dataset org/does-not-exist not found');
    const noRev = await hfhpc(['--manifest', await t.manifest({ datasets: [{ repo: 'org/twin', revision: 'no-such-branch' }] })]);
    expect(noRev.exitCode).toBe(2);
    expect(noRev.stderr).toContain('revision no-such-branch not found in dataset org/twin');
    expect(existsSync(t.dbPath)).toBe(false);
  });

  it('checks the root is writable before any request to the Hub (exit 2)', async () => {
    await writeFile(path.join(t.dir, 'a-file'), 'not a folder');
    const m = await t.manifest({ root: path.join(t.dir, 'a-file', 'root'), datasets: [{ repo: 'org/twin' }] });
    const r = await hfhpc(['--manifest', m]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('download root');
    expect(t.hub.requests).toHaveLength(0);
  });

  it('validates Slurm time limits (exit 2 before any request) and warns when --time is not longer than the USR1 lead', async () => {
    const m = await t.manifest({ datasets: [{ repo: 'org/twin' }] });
    for (const bad of ['99:99', '1:99:00', '2-25', '0', '99999999999999999999', '1:2:3:4']) {
      const r = await hfhpc(['--manifest', m, '--time', bad]);
      expect({ bad, code: r.exitCode }).toEqual({ bad, code: 2 });
      expect(r.stderr).toContain('is not a Slurm time limit');
    }
    const huge = path.join(t.dir, 'huge.yaml');
    await writeFile(huge, `allow_prefixes: [org/]\nroot: ${t.root}\ndatasets:\n  - repo: org/twin\nslurm:\n  time: 99999999999999999999\n`);
    const inManifest = await hfhpc(['--manifest', huge]);
    expect(inManifest.exitCode).toBe(2);
    expect(inManifest.stderr).toContain('slurm.time');
    expect(t.hub.requests).toHaveLength(0);

    for (const good of ['90', '30:00', '12:00:00', '1-12', '1-12:30', '2-00:00:00', 'UNLIMITED']) {
      const r = await hfhpc(['--manifest', m, '--time', good, '--dry-run']);
      expect({ good, code: r.exitCode, stderr: r.exitCode === 0 ? '' : r.stderr }).toEqual({ good, code: 0, stderr: '' });
      expect(r.stderr).not.toContain('USR1 lead');
    }
    const short = await hfhpc(['--manifest', m, '--time', '4', '--dry-run']);
    expect(short.exitCode).toBe(0);
    expect(short.stderr).toContain('time limit 4 (240 s) is not longer than the USR1 lead of 300 s');
  });

  it('refuses number options out of bounds (exit 2, nothing written, no request)', async () => {
    const m = await t.manifest({ datasets: [{ repo: 'org/twin' }] });
    for (const args of [['--lease-ttl', '1e20'], ['--shards', '0'], ['--max-parallel', 'NaN'], ['--signal-seconds', '1e9'], ['--concurrency', '']]) {
      const r = await hfhpc(['--manifest', m, ...args]);
      expect({ args, code: r.exitCode }).toEqual({ args, code: 2 });
      expect(r.stderr).toContain(`Expected ${args[0]} to be`);
    }
    expect(t.hub.requests).toHaveLength(0);
    expect(existsSync(t.root)).toBe(false);
  });
});

/** The commit the newest plan pinned its (only) dataset to. */
function latestCommit(dbPath: string): string {
  return withStore(dbPath, (s) => s.read((db) => db.prepare('SELECT commit_sha FROM datasets WHERE plan_id = (SELECT MAX(id) FROM plans)').pluck().get() as string));
}

// The end-to-end tests on the real dev cluster (scripts/dev-slurm.sh start): fakehub in the
// test process on 127.0.0.1, the built CLI (`node packages/cli/dist/bin.js`) as child
// processes, real sbatch/squeue/scontrol/scancel. Each test gets its own temp folder (manifest,
// root, database, logs) and job name, so the files can share the one cluster.
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { execFile } from 'node:child_process';
import { cacheLayout, parsePartialName } from '@hfhpc/core';
import { startFakeHub, type FakeHub, type FakeHubConfig } from '@hfhpc/fakehub';
import type { StatusReport } from '@hfhpc/ops';
import { SlurmScheduler, type JobState } from '@hfhpc/scheduler';
import type { PlannedFile } from '../../../worker/test/helpers/e2e.js';

// One gate and one cache check for every Slurm test and every e2e test of the repo.
export { describeSlurm } from '../../../scheduler/test/slurm-test-mode.js';
export { checkCache, type PlannedFile } from '../../../worker/test/helpers/e2e.js';

export const CLI = fileURLToPath(new URL('../../dist/bin.js', import.meta.url));
/** A token fakehub accepts (gated repos need it): it reaches the jobs only through their environment. */
export const TOKEN = 'hf_slurmE2eToken0123456789abcdef';

export interface E2e {
  /** Temp folder: manifest.yaml, root/ (the cache and `_hfhpc/`), hf-home/. */
  dir: string;
  root: string;
  manifest: string;
  hub: FakeHub;
  /** Environment of every hfhpc child: sbatch hands it on to the jobs (`--export=ALL`). */
  env: NodeJS.ProcessEnv;
  scheduler: SlurmScheduler;
  /** Array job ids this test submitted (cancelled by `tearDown`). */
  jobIds: string[];
}

/**
 * A temp folder, fakehub serving `config` (every repo gated unless said otherwise, so the
 * token must reach the jobs) and a manifest for `repos`.
 */
export async function setUp(params: { name: string; config: FakeHubConfig; repos: string[] }): Promise<E2e> {
  const dir = await mkdtemp(join(tmpdir(), `hfhpc-slurm-e2e-${params.name}-`));
  const config: FakeHubConfig = {
    tokens: [{ token: TOKEN, user: 'e2e', canAccessGated: ['*'] }, ...(params.config.tokens ?? [])],
    repos: params.config.repos.map((r) => ({ gated: 'auto' as const, ...r })),
  };
  // No hash cache on disk: nothing outside the temp folder is written or read.
  const hub = await startFakeHub({ config, hashCacheDir: false });
  const manifest = join(dir, 'manifest.yaml');
  await writeFile(manifest, ['allow_prefixes: [bigcode/]', 'root: ./root', 'datasets:', ...params.repos.map((r) => `  - repo: ${r}`), ''].join('\n'));
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, HF_TOKEN: TOKEN, HF_HOME: join(dir, 'hf-home') };
  return { dir, root: join(dir, 'root'), manifest, hub, env, scheduler: new SlurmScheduler(), jobIds: [] };
}

/** Cancel what the test submitted, stop fakehub, remove the temp folder. */
export async function tearDown(e: E2e | undefined): Promise<void> {
  if (!e) return;
  for (const id of e.jobIds) await e.scheduler.cancel(id).catch(() => undefined);
  await e.hub.stop();
  await rm(e.dir, { recursive: true, force: true });
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run a program to its end; never rejects (the exit code is in the result). */
export function run(file: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(file, args, { ...opts, timeout: 120_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) + (err && code === -1 ? `${err.name}: ${err.message}` : '') });
    });
  });
}

/** `node packages/cli/dist/bin.js <args>` in the test's folder (so it is the jobs' submit dir). */
export function hfhpc(e: E2e, args: string[]): Promise<CliResult> {
  return run(process.execPath, [CLI, ...args], { cwd: e.dir, env: e.env });
}

/** `hfhpc plan … --json`, expecting success; submitted job ids are remembered for tear-down. */
export async function plan(e: E2e, args: string[]): Promise<{ plan_id: number; files: number; bytes: number; shards: number; scripts: string[]; job_ids: string[] }> {
  const r = await hfhpc(e, ['plan', ...args, '--hub-url', e.hub.hubUrl, '--json']);
  if (r.code !== 0) throw new Error(`hfhpc plan ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  const out = JSON.parse(r.stdout);
  e.jobIds.push(...out.job_ids);
  return out;
}

/** `hfhpc status --json` (Slurm states included). */
export async function statusJson(e: E2e): Promise<StatusReport> {
  const r = await hfhpc(e, ['status', '--json', '--root', e.root]);
  if (r.code !== 0) throw new Error(`hfhpc status exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as StatusReport;
}

/** Poll `probe` until it returns a value other than undefined/false; fail after `timeoutMs` naming `what`. */
export async function until<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs: number, pollMs = 500): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(pollMs);
  }
}

const TERMINAL = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'OUT_OF_MEMORY', 'NODE_FAIL', 'PREEMPTED', 'BOOT_FAIL', 'DEADLINE']);

/** Every task of the array `jobId` (`taskCount` of them) has ended; returns their states. */
export async function waitForArray(e: E2e, jobId: string, taskCount: number, timeoutMs: number): Promise<JobState[]> {
  let last: JobState[] = [];
  try {
    return await until(`array ${jobId} to end`, async () => {
      last = await e.scheduler.jobStates([jobId]);
      return last.length === taskCount && last.every((s) => TERMINAL.has(s.state)) ? last : undefined;
    }, timeoutMs);
  } catch (err) {
    throw new Error(`${(err as Error).message}; last seen: ${last.map((s) => `${s.jobId}=${s.state}(${s.reason})`).join(' ') || 'nothing'}\n${await readLogs(e)}`);
  }
}

/** One task's state from squeue. */
export async function taskState(e: E2e, task: string): Promise<JobState | undefined> {
  const [arrayId] = task.split('_');
  return (await e.scheduler.jobStates([arrayId])).find((s) => s.jobId === task);
}

/** `scontrol show job <id>` as key → value (first occurrence of each key). */
export async function scontrolShowJob(id: string): Promise<Record<string, string>> {
  const r = await run('scontrol', ['show', 'job', id]);
  if (r.code !== 0) throw new Error(`scontrol show job ${id} exited ${r.code}: ${r.stderr}`);
  const out: Record<string, string> = {};
  for (const m of String(r.stdout).matchAll(/(\w+)=(\S*)/g)) if (!(m[1] in out)) out[m[1]] = m[2];
  return out;
}

/** The plan's Slurm logs (`<root>/_hfhpc/plans/<id>/logs/*.out`), name → text. */
export async function logs(e: E2e, planId = 1): Promise<Map<string, string>> {
  const dir = join(e.root, '_hfhpc', 'plans', String(planId), 'logs');
  const out = new Map<string, string>();
  for (const name of (await readdir(dir).catch(() => [] as string[])).sort()) out.set(name, await readFile(join(dir, name), 'utf8'));
  return out;
}

/** All logs in one string, for failure messages. */
export async function readLogs(e: E2e): Promise<string> {
  const all: string[] = [];
  for (const planDir of await readdir(join(e.root, '_hfhpc', 'plans')).catch(() => [] as string[])) {
    for (const [name, text] of await logs(e, Number(planDir))) all.push(`--- plan ${planDir} ${name}\n${text}`);
  }
  return all.join('\n');
}

/** Every file of `repo` at its default branch, with what the cache check needs. */
export async function plannedFiles(hub: FakeHub, repo: string): Promise<PlannedFile[]> {
  const out: PlannedFile[] = [];
  for (const path of hub.files(repo)) {
    const info = await hub.fileInfo(repo, path);
    out.push({ repo, path, size: info.size, blob: info.blob, lfs: Boolean(info.lfs) });
  }
  return out;
}

/** Bytes of `blob`'s largest partial file under the root, whichever claim wrote it (0 when there is none). */
export async function partialSize(root: string, repo: string, blob: string): Promise<number> {
  const dir = cacheLayout(root, repo).blobsDir;
  let largest = 0;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (parsePartialName(name)?.blob !== blob) continue;
    const st = await stat(join(dir, name)).catch(() => undefined);
    largest = Math.max(largest, st?.size ?? 0);
  }
  return largest;
}

/** fakehub's CDN answers for one file: the `Range` start of each request and the body bytes sent. */
export function cdnTransfers(hub: FakeHub, path: string): { rangeStart: number; bytesSent: number }[] {
  return hub.requests
    .filter((r) => r.host === 'cdn' && r.filePath === path && r.method === 'GET')
    .map((r) => ({ rangeStart: Number(/^bytes=(\d+)-/.exec(r.range ?? '')?.[1] ?? 0), bytesSent: r.bytesSent }));
}

/** The `#SBATCH --array=` value of a rendered script. */
export async function arrayLine(scriptPath: string): Promise<string> {
  const m = /^#SBATCH --array=(\S+)$/m.exec(await readFile(scriptPath, 'utf8'));
  if (!m) throw new Error(`${scriptPath} has no #SBATCH --array= line`);
  return m[1];
}

/** Whether a process exists (the worker's pid from its lease owner `<job>_<task>@host:pid`). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The process state letter from /proc (`T` = stopped), or undefined when it is gone. */
export async function procState(pid: number): Promise<string | undefined> {
  const s = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  return s ? /\) (\S)/.exec(s)?.[1] : undefined;
}

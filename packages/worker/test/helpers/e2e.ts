// End-to-end helpers: fakehub in the test process, `hfhpc work` as real child processes
// running the built CLI, and a check of the resulting cache against the plan.
import { afterAll, afterEach, beforeAll } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { lstat, readFile, readdir, readlink, realpath, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheLayout, createPlan, openStore, parsePartialName, type NewPlanFile } from '@hfhpc/core';
import { startFakeHub, type FakeHub, type FakeHubConfig, type FakeHubOptions } from '@hfhpc/fakehub';

export const CLI = fileURLToPath(new URL('../../../cli/dist/bin.js', import.meta.url));

export interface Workspace {
  dir: string;
  root: string;
  dbPath: string;
  cleanup(): void;
}

export function workspace(opts: { root?: string; dbPath?: string } = {}): Workspace {
  const dir = mkdtempSync(join(tmpdir(), 'hfhpc-e2e-'));
  const root = opts.root ?? join(dir, 'root');
  return { dir, root, dbPath: opts.dbPath ?? join(dir, 'state.sqlite'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function startHub(config: FakeHubConfig, options: Partial<FakeHubOptions> = {}): Promise<FakeHub> {
  // No hash cache file: tests must not depend on (or leave) files outside their temp dir.
  return startFakeHub({ config, hashCacheDir: false, ...options });
}

export interface PlannedFile {
  repo: string;
  path: string;
  size: number;
  blob: string;
  lfs: boolean;
}

/**
 * Store a plan of every file of `repos` at their default branch, straight from fakehub's own
 * listing (the planner has its own tests). `shardOf` places file i of the listing; default:
 * round-robin over `shards`.
 */
export async function planFromHub(params: { hub: FakeHub; ws: Workspace; repos: string[]; shards?: number; shardOf?: (f: PlannedFile, i: number) => number }): Promise<{ planId: number; files: PlannedFile[] }> {
  const { hub, ws } = params;
  const shards = params.shards ?? 1;
  const files: (NewPlanFile & PlannedFile)[] = [];
  for (const repo of params.repos) {
    for (const path of hub.files(repo)) {
      const info = await hub.fileInfo(repo, path);
      const f = { repo, path, size: info.size, blob: info.blob, lfs: Boolean(info.lfs) };
      files.push({ ...f, datasetRepo: repo, oid: info.oid, lfsSha256: info.lfs?.oid ?? null, shardIdx: 0 });
    }
  }
  files.forEach((f, i) => (f.shardIdx = params.shardOf ? params.shardOf(f, i) : i % shards));
  // Files sharing a blob belong to one shard (the planner's rule): follow the first.
  const blobShard = new Map<string, number>();
  for (const f of files) f.shardIdx = blobShard.get(f.blob) ?? (blobShard.set(f.blob, f.shardIdx), f.shardIdx);
  const store = openStore({ path: ws.dbPath });
  try {
    const planId = createPlan(store, {
      manifestPath: join(ws.dir, 'manifest.yaml'),
      manifestSha256: '0'.repeat(64),
      root: ws.root,
      hubUrl: hub.hubUrl,
      datasets: params.repos.map((repo) => ({ repo, revision: 'main', commitSha: hub.commitSha(repo) })),
      shards: Array.from({ length: shards }, (_, idx) => {
        const mine = files.filter((f) => f.shardIdx === idx);
        return { idx, bytesTotal: mine.reduce((s, f) => s + f.size, 0), filesTotal: mine.length };
      }).filter((s) => s.filesTotal > 0),
      files,
    });
    return { planId, files };
  } finally {
    store.close();
  }
}

export interface Run {
  child: ChildProcess;
  /** Resolves with the exit code (128+n for a signal) and the output. */
  done: Promise<{ code: number; stdout: string; stderr: string }>;
  stderrSoFar(): string;
}

const live = new Set<ChildProcess>();

/**
 * One fakehub for a test file (with `options`), started before its tests (handed over through `started`) and
 * stopped after them. After each test the `hfhpc work` processes left running are killed, the
 * hub's faults and request log cleared, and the test's workspace removed.
 */
export function useSharedHub(
  config: FakeHubConfig,
  test: { started: (hub: FakeHub) => void; workspace: () => Workspace | undefined },
  options: Partial<FakeHubOptions> = {},
): void {
  let hub: FakeHub | undefined;
  beforeAll(async () => test.started((hub = await startHub(config, options))));
  afterAll(async () => {
    await hub?.stop();
  });
  afterEach(() => {
    killLeftovers();
    hub?.faults.clear();
    hub?.resetRequests();
    test.workspace()?.cleanup();
  });
}

/** Kill (SIGKILL) every child a test started that is still running: call from afterEach. */
export function killLeftovers(): void {
  for (const c of live) c.kill('SIGKILL');
  live.clear();
}

/** Start `node packages/cli/dist/bin.js <args>`; HF_TOKEN etc. only from `env`. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Run {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, HF_HOME: join(tmpdir(), 'hfhpc-e2e-no-token'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  child.on('exit', () => live.delete(child));
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    child.on('close', (code, sig) => resolve({ code: code ?? 128 + (sig === 'SIGKILL' ? 9 : sig === 'SIGTERM' ? 15 : 0), stdout, stderr }));
  });
  return { child, done, stderrSoFar: () => stderr };
}

/** `hfhpc work` on a workspace's plan. */
export function runWork(ws: Workspace, hub: FakeHub, extra: string[] = [], env: NodeJS.ProcessEnv = {}): Run {
  const defaults = [['--lease-ttl', '10'], ['--progress-interval', '1']].filter(([flag]) => !extra.includes(flag)).flat();
  return runCli(['work', '--db', ws.dbPath, '--root', ws.root, '--hub-url', hub.hubUrl, ...defaults, ...extra], env);
}

/** Poll until `cond` holds (checked every 20 ms), or fail after `ms`. */
export async function until(cond: () => boolean | Promise<boolean>, ms = 20_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** `p`, or a rejection if it takes longer than `ms` (the timer is cleared either way). */
export async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

async function hashFile(path: string, kind: 'sha256' | 'sha1', size: number): Promise<string> {
  const h = createHash(kind);
  if (kind === 'sha1') h.update(`blob ${size}\0`);
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/**
 * Check a cache against what was planned, per protocol §4.3 (what an offline
 * `snapshot_download(local_files_only=True)` needs) and the rule that nothing unverified sits
 * at a final path. `complete`: these files must be there. Returns the problems found.
 */
export async function checkCache(params: { root: string; hub: FakeHub; complete: PlannedFile[] }): Promise<string[]> {
  const problems: string[] = [];
  const repos = [...new Set(params.complete.map((f) => f.repo))];
  for (const repo of repos) {
    const layout = cacheLayout(params.root, repo);
    const commit = params.hub.commitSha(repo);
    const ref = await readFile(layout.refPath('main'), 'utf8').catch(() => undefined);
    if (ref !== commit) problems.push(`${repo}: refs/main is ${ref}, expected ${commit}`);
    const tree = JSON.parse(await readFile(layout.treePath(commit), 'utf8').catch(() => '{"files":{}}')) as { format_version?: number; files: Record<string, { size: number; blob_id: string; lfs_sha256?: string }> };
    if (tree.format_version !== 1) problems.push(`${repo}: trees/${commit}.json missing or not format 1`);
    // Offline completeness: every listed path is a regular file through the snapshot.
    for (const [p, e] of Object.entries(tree.files)) {
      const st = await stat(layout.snapshotPath(commit, p)).catch(() => undefined);
      if (!st?.isFile()) problems.push(`${repo}: ${p} listed in trees/ but not in the snapshot`);
      else if (st.size !== e.size) problems.push(`${repo}: ${p} is ${st.size} bytes, trees/ says ${e.size}`);
    }
  }
  for (const f of params.complete) {
    const layout = cacheLayout(params.root, f.repo);
    const link = layout.snapshotPath(params.hub.commitSha(f.repo), f.path);
    const l = await lstat(link).catch(() => undefined);
    if (!l?.isSymbolicLink()) {
      problems.push(`${f.repo}: ${f.path} is not a symlink in the snapshot`);
      continue;
    }
    const target = await readlink(link);
    if (target !== layout.blobLinkTarget(f.path, f.blob)) problems.push(`${f.repo}: ${f.path} links to ${target}`);
    const real = await realpath(link).catch(() => '');
    if (relative(layout.blobsDir, real) !== f.blob) problems.push(`${f.repo}: ${f.path} resolves to ${real}`);
    else if ((await hashFile(real, f.lfs ? 'sha256' : 'sha1', f.size)) !== f.blob) problems.push(`${f.repo}: ${f.path} content does not hash to ${f.blob}`);
  }
  problems.push(...(await checkFinalBlobs(params.root)));
  return problems;
}

/** Every `blobs/<name>` (not `.incomplete`) under the root must hash to its name. */
export async function checkFinalBlobs(root: string): Promise<string[]> {
  const problems: string[] = [];
  for (const repoDir of await readdir(root).catch(() => [] as string[])) {
    if (!repoDir.startsWith('datasets--')) continue;
    const blobs = join(root, repoDir, 'blobs');
    for (const name of await readdir(blobs).catch(() => [] as string[])) {
      if (name.endsWith('.incomplete')) continue;
      const p = join(blobs, name);
      const size = (await stat(p)).size;
      const kind = name.length === 64 ? 'sha256' : 'sha1';
      if ((await hashFile(p, kind, size)) !== name) problems.push(`unverified bytes at final path ${p}`);
    }
  }
  return problems;
}

export function cdnRequestsWithAuth(hub: FakeHub): number {
  return hub.requests.filter((r) => r.host === 'cdn' && r.authorization).length;
}

/** Content requests (resolve on the Hub, any CDN request), per repo/path. */
export function contentRequests(hub: FakeHub): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of hub.requests) {
    if (r.endpoint !== 'resolve' && r.host !== 'cdn') continue;
    const key = `${r.repo}/${r.filePath}`;
    m.set(key, (m.get(key) ?? 0) + 1);
  }
  return m;
}

/** The partial files of `blob` in `repo`'s blobs folder (every claim's), with their sizes, largest first. */
export async function partialsOf(root: string, repo: string, blob: string): Promise<{ path: string; size: number }[]> {
  const dir = cacheLayout(root, repo).blobsDir;
  const names = await readdir(dir).catch(() => [] as string[]);
  const out: { path: string; size: number }[] = [];
  for (const name of names) {
    if (parsePartialName(name)?.blob !== blob) continue;
    const st = await stat(join(dir, name)).catch(() => undefined);
    if (st) out.push({ path: join(dir, name), size: st.size });
  }
  return out.sort((a, b) => b.size - a.size);
}

/** Bytes in the largest partial file of `blob` (0 when there is none). */
export async function partialSize(root: string, repo: string, blob: string): Promise<number> {
  return (await partialsOf(root, repo, blob))[0]?.size ?? 0;
}

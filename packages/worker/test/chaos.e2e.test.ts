// Bounded chaos: real `hfhpc plan`, then at least six real `hfhpc work` processes against fakehub
// under a fault mix, while a seeded loop SIGKILLs workers (and requeues them, as Slurm would)
// or freezes them with SIGSTOP past their lease. Afterwards the contract must hold: every file
// byte-exact through its snapshot path, only verified bytes at final paths, a sound database,
// one holder per fence, and `status --json` agreeing with the disk.
// Reproduce a run with HFHPC_CHAOS_SEED=<seed printed in the summary line>; HFHPC_CHAOS_LOGS=<dir>
// keeps every worker's log there.
import { describe, expect, it } from '@jest/globals';
import { createHash, randomInt } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, realpath, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { cacheLayout, listShards, openStore, recentEvents, type ShardRow, type Store } from '@hfhpc/core';
import type { FakeHub, FakeHubConfig, FaultHandle } from '@hfhpc/fakehub';
import { checkCache, runCli, runWork, until, useSharedHub, within, workspace, type PlannedFile, type Run, type Workspace } from './helpers/e2e.js';

const MiB = 1024 * 1024;
const WORKERS = 6;
const SHARDS = 12;
const TTL_S = 3;
/** The chaos phase ends after this many events or this long, whichever comes first. */
const MAX_EVENTS = 24;
const CHAOS_MS = 45_000;
/** Fresh tasks started after the chaos while work is left (a later requeue). */
const MAX_FRESH = 6;
/** Everything after the chaos phase, in all. */
const DRAIN_MS = 90_000;
const SEED = chaosSeed(process.env.HFHPC_CHAOS_SEED);

function chaosSeed(given: string | undefined): number {
  if (given === undefined || given === '') return randomInt(2 ** 31);
  if (!/^\d+$/.test(given)) throw new Error(`HFHPC_CHAOS_SEED must be a non-negative integer (the seed a chaos summary printed), got "${given}"`);
  return Number(given);
}

// Big LFS files paced by a bandwidth cap so that kills and stops land mid-file, one blob under
// two paths and in a second repo, many small git files, small LFS files, an empty file.
const config: FakeHubConfig = {
  repos: [
    {
      id: 'chaos/big',
      files: [
        ...Array.from({ length: 8 }, (_, i) => ({ path: `shards/part-${i}.bin`, size: (3 + (i % 4)) * MiB, lfs: true, seed: 100 + i })),
        { path: 'shards/part-0-again.bin', size: 3 * MiB, lfs: true, seed: 100 },
        { path: 'README.md', text: '# chaos\n' },
      ],
    },
    {
      id: 'chaos/small',
      files: [
        { path: 'empty.txt', text: '' },
        { path: 'dup/a.txt', text: 'the same small file\n' },
        { path: 'dup/b.txt', text: 'the same small file\n' },
      ],
      generate: [
        { count: 240, prefix: 'data/', size: [50, 6000], lfs: false, ext: '.json', perDir: 60 },
        { count: 30, prefix: 'lfs-small/', size: [20_000, 200_000], lfs: true },
      ],
    },
    { id: 'chaos/twin', files: [{ path: 'part-0.bin', size: 3 * MiB, lfs: true, seed: 100 }] },
  ],
};
const REPOS = config.repos.map((r) => r.id);

/** mulberry32: a small seeded PRNG, so the sequence of chaos decisions is reproducible. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function installFaults(hub: FakeHub): FaultHandle[] {
  return [
    // Paced CDN bodies for the big files (per request): a 6 MiB file takes about 12 s.
    hub.faults.bandwidth({ host: 'cdn', path: /^(shards\/|part-)/, bytesPerSecond: 512 * 1024 }),
    hub.faults.dropConnection({ host: 'cdn', afterBytes: 256 * 1024, skip: 2, count: 4 }),
    hub.faults.serverError({ host: 'cdn', status: 502, skip: 3, count: 2 }),
    hub.faults.serverError({ endpoint: 'resolve', status: 500, skip: 20, count: 3 }),
    hub.faults.rateLimit({ endpoint: 'resolve', retryAfterSeconds: 1, skip: 60, count: 2 }),
    hub.faults.slowFirstByte({ endpoint: 'resolve', delayMs: 1500, skip: 10, count: 3 }),
    // A corrupt byte inside a later range of a big file (only a body covering that offset gets
    // it), at most once per file: a bad byte a stale writer leaves in a partial that another
    // task resumes must not end up in a published blob.
    hub.faults.corruptBytes({ host: 'cdn', path: /^shards\/part-[0247]\.bin$/, offset: 2 * MiB + 12_345, count: 1 }),
    ...([[1, 1.5], [3, 3.2], [5, 0.7], [6, 4.1]] as const).map(([i, at]) =>
      hub.faults.corruptBytes({ host: 'cdn', path: `shards/part-${i}.bin`, offset: Math.round(at * MiB), count: 1 }),
    ),
    hub.faults.corruptBytes({ endpoint: 'resolve', path: /^data\//, skip: 30, count: 1 }),
    hub.faults.expireCdnUrls({ skip: 5, count: 2 }),
    hub.faults.ignoreRange({ host: 'cdn', skip: 4, count: 2 }),
  ];
}

/** `kind:hits` per fault kind, for the summary line. */
function faultHits(faults: FaultHandle[]): string {
  const by = new Map<string, number>();
  for (const f of faults) by.set(f.kind, (by.get(f.kind) ?? 0) + f.hits);
  return [...by].map(([k, n]) => `${k}:${n}`).join(' ');
}

interface Worker {
  n: number;
  taskId: number;
  run: Run;
  stopped: boolean;
  killed: boolean;
  termed: boolean;
  exit?: number;
}

let hub: FakeHub;
let ws: Workspace | undefined;
// Signed CDN URLs live 6 s: a worker frozen or retrying past that resumes with an expired URL.
useSharedHub(config, { started: (h) => (hub = h), workspace: () => ws }, { cdnUrlTtlSeconds: 6 });

function withStore<T>(dbPath: string, fn: (store: Store) => T): T {
  const store = openStore({ path: dbPath, readonly: true, create: false });
  try {
    return fn(store);
  } finally {
    store.close();
  }
}

async function expectedFiles(): Promise<PlannedFile[]> {
  const files: PlannedFile[] = [];
  for (const repo of REPOS) {
    for (const path of hub.files(repo)) {
      const info = await hub.fileInfo(repo, path);
      files.push({ repo, path, size: info.size, blob: info.blob, lfs: Boolean(info.lfs) });
    }
  }
  return files;
}

async function hashFile(path: string, f: PlannedFile): Promise<string> {
  const h = createHash(f.lfs ? 'sha256' : 'sha1');
  if (!f.lfs) h.update(`blob ${f.size}\0`);
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Per repo, the planned files whose snapshot path resolves to a blob with fakehub's bytes. */
async function verifiedOnDisk(root: string, files: PlannedFile[]): Promise<Map<string, { files: number; bytes: number }>> {
  const out = new Map<string, { files: number; bytes: number }>();
  for (const f of files) {
    const layout = cacheLayout(root, f.repo);
    const real = await realpath(layout.snapshotPath(hub.commitSha(f.repo), f.path)).catch(() => '');
    if (relative(layout.blobsDir, real) !== f.blob || (await hashFile(real, f)) !== f.blob) continue;
    const c = out.get(f.repo) ?? { files: 0, bytes: 0 };
    c.files++;
    c.bytes += f.size;
    out.set(f.repo, c);
  }
  return out;
}

/**
 * What no finished run may leave: a final-looking blob that was not planned for its repo, or
 * an entry in a snapshot that is not a planned path. Temp names of an atomic replace (`*.tmp`)
 * and partial files (`*.incomplete`) are only counted: their names are not the contract.
 */
async function strays(root: string, files: PlannedFile[]): Promise<{ problems: string[]; partials: number; temps: number }> {
  const problems: string[] = [];
  let partials = 0;
  let temps = 0;
  for (const repo of REPOS) {
    const layout = cacheLayout(root, repo);
    const mine = files.filter((f) => f.repo === repo);
    const blobs = new Set(mine.map((f) => f.blob));
    for (const name of await readdir(layout.blobsDir).catch(() => [] as string[])) {
      if (name.endsWith('.incomplete')) partials++;
      else if (!blobs.has(name)) problems.push(`${repo}: unplanned blobs/${name}`);
    }
    const snap = join(layout.snapshotsDir, hub.commitSha(repo));
    const paths = new Set(mine.map((f) => f.path));
    for (const e of await readdir(snap, { recursive: true, withFileTypes: true }).catch(() => [])) {
      if (e.isDirectory()) continue;
      const rel = relative(snap, join(e.parentPath, e.name));
      if (paths.has(rel)) continue;
      if (rel.endsWith('.tmp')) temps++;
      else problems.push(`${repo}: unplanned snapshot entry ${rel}`);
    }
  }
  return { problems, partials, temps };
}

describe('chaos', () => {
  it(`${WORKERS}+ workers under SIGKILL / SIGSTOP and a fault mix: every file byte-exact, one holder per fence, status agrees with the disk`, async () => {
    const rng = prng(SEED);
    process.stderr.write(`chaos: seed ${SEED} (re-run with HFHPC_CHAOS_SEED=${SEED})\n`);
    ws = workspace();
    const w = ws;
    const files = await expectedFiles();

    // Plan with the real CLI: shards, refs/ and trees/ as an operator gets them.
    const manifest = join(w.dir, 'manifest.json');
    await writeFile(manifest, JSON.stringify({ allow_prefixes: ['chaos/'], root: w.root, datasets: REPOS.map((repo) => ({ repo })) }));
    const plan = await within(runCli(['plan', '--manifest', manifest, '--db', w.dbPath, '--shards', String(SHARDS), '--json'], { HF_ENDPOINT: hub.hubUrl }).done, 60_000, 'hfhpc plan');
    expect({ code: plan.code, stderr: plan.code === 0 ? '' : plan.stderr }).toEqual({ code: 0, stderr: '' });
    const planned = JSON.parse(plan.stdout) as { plan_id: number; files: number; shards: number };
    expect(planned).toMatchObject({ files: files.length, shards: SHARDS });
    const planId = planned.plan_id;

    const faults = installFaults(hub);
    const began = Date.now();
    const workers: Worker[] = [];
    const start = (taskId: number): Worker => {
      const run = runWork(w, hub, ['--task-id', String(taskId), '--lease-ttl', String(TTL_S), '--concurrency', '2', '--progress-interval', '5']);
      const wk: Worker = { n: workers.length, taskId, run, stopped: false, killed: false, termed: false };
      void run.done.then((r) => (wk.exit = r.code));
      workers.push(wk);
      return wk;
    };
    // `exitCode`/`signalCode` are set at exit, before the pipes close and `done` resolves.
    const live = () => workers.filter((x) => x.exit === undefined && x.run.child.exitCode === null && x.run.child.signalCode === null);
    const shards = (): ShardRow[] => withStore(w.dbPath, (s) => listShards(s, planId));
    const allDone = () => shards().every((s) => s.state === 'done');

    for (let i = 0; i < WORKERS; i++) start(i);

    let kills = 0;
    let stops = 0;
    let terms = 0;
    /** Events that hit a worker holding a lease at that moment (not one idle between shards). */
    let onHolder = 0;
    let fresh = 0;
    let chaosMs = 0;
    /** The line to reproduce a run from; printed however the run ends. */
    const summary = async (): Promise<void> => {
      const exits = workers.map((x) => `${x.exit}${x.killed ? 'k' : x.termed ? 't' : ''}`);
      const { partials, temps } = await strays(w.root, files);
      const logs = workers.map((x) => x.run.stderrSoFar()).join('\n');
      const count = (re: RegExp) => logs.match(re)?.length ?? 0;
      process.stderr.write(
        `chaos: seed ${SEED}, kills ${kills}, stops ${stops}, terms ${terms} (${onHolder} on a lease holder), chaos ${Math.round(chaosMs / 1000)} s, ` +
          `total ${Math.round((Date.now() - began) / 1000)} s, fresh ${fresh}, workers ${workers.length}, exits [${exits.join(' ')}], ` +
          `shards done ${shards().filter((s) => s.state === 'done').length}/${SHARDS}, resumes ${count(/resuming .* at byte/g)}, ` +
          `leases lost ${count(/lost the lease/g)}, faults fired ${faultHits(faults)}, partials left ${partials}, temp files left ${temps}\n`,
      );
    };
    try {
      // The chaos phase.
      const pending: Promise<void>[] = [];
      const conts = new Set<NodeJS.Timeout>();
      const chaosEnd = Date.now() + CHAOS_MS;
      while (kills + stops + terms < MAX_EVENTS && Date.now() < chaosEnd) {
        await sleep(1000 + rng() * 2000);
        if (allDone()) break;
        const candidates = live().filter((x) => !x.stopped);
        if (candidates.length === 0) {
          if (live().length === 0 && pending.length === 0) break;
          continue;
        }
        const victim = candidates[Math.floor(rng() * candidates.length)];
        if (shards().some((sh) => sh.state === 'running' && sh.owner?.endsWith(`:${victim.run.child.pid}`))) onHolder++;
        // The first two events are a kill and a stop; then mostly those, sometimes the polite
        // SIGTERM a Slurm requeue or time limit sends (lease released, exit 75).
        const r = rng();
        const kind = kills + stops < 2 ? (kills === 0 ? 'kill' : 'stop') : r < 0.45 ? 'kill' : r < 0.9 ? 'stop' : 'term';
        if (kind === 'kill' || kind === 'term') {
          if (kind === 'kill') {
            victim.killed = true;
            victim.run.child.kill('SIGKILL');
            kills++;
          } else {
            victim.termed = true;
            victim.run.child.kill('SIGTERM');
            terms++;
          }
          // Requeued after a while, under the same task id.
          const delay = rng() * 1.5 * TTL_S * 1000;
          pending.push(sleep(delay).then(() => void start(victim.taskId)));
        } else {
          victim.stopped = true;
          victim.run.child.kill('SIGSTOP');
          stops++;
          const t = setTimeout(() => {
            conts.delete(t);
            victim.stopped = false;
            victim.run.child.kill('SIGCONT');
          }, 500 + rng() * 2 * TTL_S * 1000);
          conts.add(t);
        }
      }

      chaosMs = Date.now() - began;
      // Wake the frozen, let the requeued start, then let everyone finish; while work is left and
      // nothing runs, start a fresh task once no live lease is left (bounded).
      for (const t of conts) clearTimeout(t);
      conts.clear();
      for (const x of live().filter((y) => y.stopped)) {
        x.stopped = false;
        x.run.child.kill('SIGCONT');
      }
      await Promise.all(pending);
      const drainEnd = Date.now() + DRAIN_MS;
      for (;;) {
        await within(Promise.all(live().map((x) => x.run.done)), Math.max(1, drainEnd - Date.now()), 'the workers to finish').catch((err: Error) => {
          // A hang is a finding: say which task, holding what, and what it logged last.
          for (const x of live()) process.stderr.write(`chaos: seed ${SEED}, worker ${x.n} (task ${x.taskId}, pid ${x.run.child.pid}) still running:\n${x.run.stderrSoFar().slice(-3000)}\n`);
          process.stderr.write(`chaos: shards ${JSON.stringify(shards().map((sh) => [sh.index, sh.state, sh.owner, sh.filesDone, sh.filesTotal]))}\n`);
          throw err;
        });
        const now = shards();
        if (now.every((s) => s.state === 'done') || now.some((s) => s.state === 'failed') || fresh >= MAX_FRESH) break;
        await until(() => shards().every((s) => s.state !== 'running' || (s.leaseExpiresAt ?? 0) < Date.now()), 4 * TTL_S * 1000, 'the last leases to expire');
        start(fresh++ % SHARDS);
      }
      await Promise.all(workers.map((x) => x.run.done));
    } finally {
      await summary().catch((err: Error) => process.stderr.write(`chaos: seed ${SEED}, no summary: ${err.message}\n`));
      // The workers' logs, kept for a post-mortem when asked (the workspace is removed).
      const keep = process.env.HFHPC_CHAOS_LOGS;
      if (keep) {
        await mkdir(keep, { recursive: true });
        for (const x of workers) await writeFile(join(keep, `worker-${x.n}-task-${x.taskId}.log`), `exit ${x.exit}${x.killed ? ' (SIGKILL sent)' : x.termed ? ' (SIGTERM sent)' : ''}\n${x.run.stderrSoFar()}`);
      }
    }

    const finalShards = shards();
    const { problems: strayProblems } = await strays(w.root, files);
    // A SIGKILL may still race a worker's own exit: then its own code counts. A SIGTERM that lands
    // while node is still loading the CLI, before the worker says it is starting (nothing opened,
    // nothing claimed), kills it with the default action.
    const diedAtBoot = (x: Worker) => x.termed && x.exit === 143 && !/ starting as /.test(x.run.stderrSoFar());
    const badExits = workers.filter((x) => !(x.killed && x.exit === 137) && !diedAtBoot(x) && ![0, 1, 75].includes(x.exit!));
    for (const x of badExits) process.stderr.write(`chaos: worker ${x.n} (task ${x.taskId}) exit ${x.exit}:\n${x.run.stderrSoFar().slice(-4000)}\n`);

    // The chaos happened, and while work was in flight (not only to idle workers).
    expect({ kills: kills >= 1, stops: stops >= 1, events: kills + stops + terms >= 4, onHolder: onHolder >= 1 }).toEqual({ kills: true, stops: true, events: true, onHolder: true });
    // Exit codes: killed by us, or a documented one; never 70. SIGTERM means 75 (0 if it came
    // as the task finished).
    expect(badExits.map((x) => `worker ${x.n} exit ${x.exit}`)).toEqual([]);
    expect(workers.filter((x) => x.termed && !x.killed && !diedAtBoot(x) && ![75, 0].includes(x.exit!)).map((x) => `worker ${x.n} exit ${x.exit} after SIGTERM`)).toEqual([]);
    expect(finalShards.map((s) => ({ index: s.index, state: s.state, lastError: s.lastError }))).toEqual(
      finalShards.map((s) => ({ index: s.index, state: 'done', lastError: s.lastError })),
    );

    // Bytes: every planned file through its snapshot path, every final blob hashes to its name.
    expect(await checkCache({ root: w.root, hub, complete: files })).toEqual([]);
    expect(strayProblems).toEqual([]);

    // The database: sound, and one claim per fence, fences strictly increasing per shard.
    withStore(w.dbPath, (store) => {
      expect(store.read((db) => db.pragma('integrity_check', { simple: true }))).toBe('ok');
      const claims = recentEvents(store, { planId, kinds: ['claim'], limit: 1_000_000 });
      const fences = new Map<number, number[]>();
      for (const e of claims) {
        const d = e.detail as { index: number; fence: number };
        fences.set(d.index, [...(fences.get(d.index) ?? []), d.fence]);
      }
      const notIncreasing = [...fences].filter(([, f]) => f.some((x, i) => i > 0 && x <= f[i - 1]));
      expect(notIncreasing).toEqual([]);
      // Every claim left its event: the shard's claim counter matches.
      expect(finalShards.map((s) => [s.index, s.attempts])).toEqual(finalShards.map((s) => [s.index, fences.get(s.index)?.length ?? 0]));
      expect(finalShards.every((s) => (fences.get(s.index)?.length ?? 0) >= 1)).toBe(true);
      // The workers' own view: each claim they logged is one the database granted, none twice,
      // and no shard was finished as done by two of them.
      const logs = workers.map((x) => x.run.stderrSoFar()).join('\n');
      const logged = [...logs.matchAll(/claimed shard (\d+) \(fence (\d+)\)/g)].map((m) => `${m[1]}/${m[2]}`);
      const granted = new Set(claims.map((e) => `${(e.detail as { index: number }).index}/${(e.detail as { fence: number }).fence}`));
      expect(logged.length).toBeGreaterThanOrEqual(SHARDS);
      expect(logged.filter((c, i) => logged.indexOf(c) !== i || !granted.has(c))).toEqual([]);
      const doneLogged = finalShards.map((s) => [s.index, logs.match(new RegExp(`\\] shard ${s.index}: done$`, 'gm'))?.length ?? 0]);
      expect(doneLogged.filter(([, n]) => n > 1)).toEqual([]);
      expect(doneLogged.some(([, n]) => n === 1)).toBe(true);
    });

    // `status --json` agrees with what is on disk.
    const st = await within(runCli(['status', '--json', '--no-slurm', '--db', w.dbPath]).done, 60_000, 'hfhpc status');
    expect({ code: st.code, stderr: st.code === 0 ? '' : st.stderr }).toEqual({ code: 0, stderr: '' });
    const report = JSON.parse(st.stdout) as {
      state: string;
      totals: { files: number; files_done: number; files_failed: number; bytes: number; bytes_done: number };
      datasets: { repo: string; files: number; files_done: number; bytes_done: number; state: string }[];
      shard_counts: Record<string, number>;
      shards: { owner: string | null }[];
    };
    const disk = await verifiedOnDisk(w.root, files);
    const diskFiles = [...disk.values()].reduce((s, c) => s + c.files, 0);
    const diskBytes = [...disk.values()].reduce((s, c) => s + c.bytes, 0);
    const totalBytes = files.reduce((s, f) => s + f.size, 0);
    expect(diskFiles).toBe(files.length);
    expect(report.state).toBe('done');
    expect(report.totals).toEqual({ files: files.length, files_done: diskFiles, files_failed: 0, bytes: totalBytes, bytes_done: diskBytes });
    expect(report.datasets.map((d) => [d.repo, d.state, d.files, d.files_done, d.bytes_done]).sort()).toEqual(
      REPOS.map((repo) => [repo, 'done', files.filter((f) => f.repo === repo).length, disk.get(repo)?.files, disk.get(repo)?.bytes]).sort(),
    );
    expect(report.shard_counts).toMatchObject({ done: SHARDS, running: 0, pending: 0, failed: 0 });
    expect(report.shards.filter((s) => s.owner !== null)).toEqual([]);
  }, 175_000);
});

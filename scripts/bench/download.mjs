// `hfhpc work` end to end (lease, download, verify, place, record) against fakehub in its own
// process over loopback, side by side with the usual tools, alternating who goes first:
//   A. one large LFS file: hfhpc work (verified) vs `curl -L -o file` (unverified)
//   B. many 10 MB LFS files: hfhpc work --concurrency 8 vs `aria2c -j8 -i urls` (unverified)
//   C. peak RSS of one worker with 8 concurrent multi-GB streams
// Each hfhpc round plans into a fresh root (`hfhpc plan`, not timed) and times `hfhpc work`.
// Besides wall-clock MB/s it prints the CPU seconds of each process, user and system per thread
// group (main, hash, libuv pool, V8 platform: each thread's last /proc/<pid>/task/<tid>/stat
// sample), and fakehub's separately (not counted): on 2 shared cores the CPU, not the network,
// is the limit, and CPU time moves far less with the machine's noise than wall-clock time.
// Ratios are given for the medians and for the best run of each side (interference only ever
// slows a run down, so the best runs are the least disturbed).
//   npm run bench -- download [--size 2GiB] [--runs 5] [--files 400] [--file-size 10MB]
//                             [--many-runs 3] [--streams 8] [--stream-size 1GiB] [--skip A,B,C]
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const hfhpc = join(repoRoot, 'packages', 'cli', 'dist', 'bin.js');
const { parseSize } = await import(join(repoRoot, 'packages', 'fakehub', 'dist', 'index.js'));
const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '2GiB' },
    runs: { type: 'string', default: '5' },
    files: { type: 'string', default: '400' },
    'file-size': { type: 'string', default: '10MB' },
    'many-runs': { type: 'string', default: '3' },
    streams: { type: 'string', default: '8' },
    'stream-size': { type: 'string', default: '1GiB' },
    skip: { type: 'string', default: '' },
  },
});
const size = parseSize({ value: values.size });
const runs = Number(values.runs);
const fileCount = Number(values.files);
const fileSize = parseSize({ value: values['file-size'] });
const manyRuns = Number(values['many-runs']);
const streams = Number(values.streams);
const streamSize = parseSize({ value: values['stream-size'] });
const skip = new Set(values.skip.split(',').filter(Boolean));

const hasAria2 = spawnSync('aria2c', ['--version'], { stdio: 'ignore' }).status === 0;
if (!hasAria2 && !skip.has('B')) {
  console.error('aria2c is missing: install it with `apt-get install -y aria2` (Debian/Ubuntu), or pass --skip B');
  process.exit(2);
}

const loadBefore = loadavg().map((x) => x.toFixed(2)).join(' ');
const work = mkdtempSync(join(tmpdir(), 'hfhpc-download-bench-'));
const mbps = (bytes, ms) => bytes / 1e6 / (ms / 1000);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (x, d = 0) => x.toFixed(d);
const MiB = 1024 * 1024;

async function startFakehub() {
  const config = join(work, 'repos.yaml');
  // Seeds as in the fakehub and download-engine benches, so the per-machine hash cache is shared.
  const streamFiles = Array.from({ length: streams }, (_, i) => `{ path: data/s${i}.bin, size: ${streamSize}, seed: ${7000 + i}, lfs: true }`).join(', ');
  writeFileSync(
    config,
    `repos:\n` +
      `  - id: bench/big\n    files: [{ path: data/big.bin, size: ${size}, seed: 20261128, lfs: true }]\n` +
      `  - id: bench/many\n    generate: { count: ${fileCount}, prefix: "data/", size: ${fileSize}, lfs: true, seed: 900000 }\n` +
      `  - id: bench/streams\n    files: [${streamFiles}]\n`,
  );
  const ready = join(work, 'ready.json');
  const child = spawn(process.execPath, [join(repoRoot, 'packages', 'fakehub', 'dist', 'bin.js'), '--config', config, '--ready-file', ready], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  while (!existsSync(ready)) await new Promise((r) => setTimeout(r, 50));
  return { child, ...JSON.parse(readFileSync(ready, 'utf8')) };
}

const TICK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** CPU seconds (user + system, all threads) a process has used so far; undefined once gone. */
function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICK;
  } catch {
    return undefined;
  }
}

/** utime and stime (seconds) and the thread name of every thread of `pid`, keyed by tid. */
function threadTimes(pid, into) {
  let tids;
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const fields = stat.slice(close + 2).split(' ');
      into.set(tid, { comm, user: Number(fields[11]) / TICK, system: Number(fields[12]) / TICK });
    } catch {
      /* the thread (or the process) is gone: its last sample stays */
    }
  }
}

/**
 * Peak RSS (VmHWM), CPU and, with `perThread`, each thread's user and system CPU of a running
 * process, polled until it exits (the last sample of each thread counts).
 */
function watchProcess(pid) {
  let peak = 0;
  let cpu = 0;
  const threads = new Map();
  const timer = setInterval(() => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) peak = Math.max(peak, Number(m[1]) * 1024);
    } catch {
      /* exited */
    }
    cpu = cpuSeconds(pid) ?? cpu;
    threadTimes(pid, threads);
  }, 25);
  return () => (clearInterval(timer), { rss: peak, cpu, threads: groupThreads(pid, threads) });
}

/**
 * Threads grouped by role. Node names every thread `node`, so: the main thread is the one whose
 * tid is the pid; the hash threads name themselves `hfhpc-hash`; libuv's pool is made last, at
 * the first fs call, after V8's platform threads (GC helpers, compilers) and node's inspector
 * thread, which exist before any JavaScript runs: of the other threads in tid (creation) order,
 * the last UV_THREADPOOL_SIZE (default 4) are the pool. curl and aria2c name no threads: their
 * extra threads (resolvers) are listed by name.
 */
function groupThreads(pid, threads) {
  const poolSize = Number(process.env.UV_THREADPOOL_SIZE) || 4;
  const unnamed = [...threads.keys()].filter((tid) => Number(tid) !== pid && threads.get(tid).comm === 'node').sort((a, b) => Number(a) - Number(b));
  const pool = new Set(unnamed.slice(-poolSize));
  const groups = {};
  for (const [tid, t] of threads) {
    const role =
      Number(tid) === pid ? 'main' :
      t.comm === 'hfhpc-hash' ? 'hash' :
      pool.has(tid) ? 'libuv pool' :
      t.comm === 'node' ? 'V8 platform' :
      t.comm;
    const g = (groups[role] ??= { user: 0, system: 0, threads: 0 });
    g.user += t.user;
    g.system += t.system;
    g.threads += 1;
  }
  return groups;
}

/** Each thread group's median user and system CPU seconds per `unit` bytes over `rows`. */
function threadTable(rows, unitBytes, unitName) {
  const roles = [...new Set(rows.flatMap((r) => Object.keys(r.threads ?? {})))];
  const order = ['main', 'hash', 'libuv pool', 'V8 platform'];
  roles.sort((a, b) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99));
  const parts = roles.map((role) => {
    const u = median(rows.map((r) => r.threads?.[role]?.user ?? 0)) / unitBytes;
    const s = median(rows.map((r) => r.threads?.[role]?.system ?? 0)) / unitBytes;
    const n = Math.max(...rows.map((r) => r.threads?.[role]?.threads ?? 0));
    return `${role} (${n}) ${fmt(u, 2)}u+${fmt(s, 2)}s`;
  });
  const u = median(rows.map((r) => Object.values(r.threads ?? {}).reduce((a, g) => a + g.user, 0))) / unitBytes;
  const s = median(rows.map((r) => Object.values(r.threads ?? {}).reduce((a, g) => a + g.system, 0))) / unitBytes;
  return { text: `user ${fmt(u, 2)} + system ${fmt(s, 2)} = ${fmt(u + s, 2)} CPU s per ${unitName} [${parts.join(', ')}]`, total: u + s };
}

let hubPid;
function spawnTimed(cmd, args, env = process.env) {
  return new Promise((resolvePromise, reject) => {
    const hub0 = cpuSeconds(hubPid) ?? 0;
    const t0 = performance.now();
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], env });
    const stop = watchProcess(child.pid, true);
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => {
      const ms = performance.now() - t0;
      const { rss, cpu, threads } = stop();
      const hubCpu = (cpuSeconds(hubPid) ?? 0) - hub0;
      if (code !== 0) reject(new Error(`${cmd} ${args.slice(0, 3).join(' ')} … exited ${code}:\n${stderr.slice(-2000)}`));
      else resolvePromise({ ms, rss, cpu, hubCpu, threads });
    });
  });
}

const workEnv = { PATH: process.env.PATH, HOME: process.env.HOME, HF_HOME: join(work, 'no-token') };

/** Plan `repo` into a fresh root (not timed), then time `hfhpc work` over it. */
async function hfhpcRun(hubUrl, repo, concurrency, tag) {
  const dir = join(work, tag);
  mkdirSync(dir, { recursive: true });
  const manifest = join(dir, 'm.yaml');
  writeFileSync(manifest, `allow_prefixes: [bench/]\nroot: ${join(dir, 'root')}\ndatasets:\n  - repo: ${repo}\n`);
  execFileSync(process.execPath, [hfhpc, 'plan', '--manifest', manifest, '--hub-url', hubUrl, '--shards', '1', '--quiet'], { env: workEnv, stdio: ['ignore', 'ignore', 'inherit'] });
  const r = await spawnTimed(process.execPath, [hfhpc, 'work', '--task-id', '0', '--root', join(dir, 'root'), '--hub-url', hubUrl, '--concurrency', String(concurrency), '--log-level', 'warn'], workEnv);
  rmSync(dir, { recursive: true, force: true });
  return r;
}

async function curlRun(hubUrl, tag) {
  const out = join(work, `${tag}.bin`);
  const r = await spawnTimed('curl', ['-s', '-L', '-o', out, `${hubUrl}/datasets/bench/big/resolve/main/data/big.bin`]);
  rmSync(out, { force: true });
  return r;
}

async function aria2Run(hubUrl, tag) {
  const dir = join(work, tag);
  mkdirSync(dir, { recursive: true });
  const list = join(work, `${tag}.txt`);
  const lines = [];
  for (let i = 0; i < fileCount; i++) {
    const name = `file-${String(i).padStart(5, '0')}.bin`;
    lines.push(`${hubUrl}/datasets/bench/many/resolve/main/data/${name}`, `  out=${name}`);
  }
  writeFileSync(list, `${lines.join('\n')}\n`);
  const r = await spawnTimed('aria2c', ['-j8', '-x1', '-i', list, '-d', dir, '--allow-overwrite=true', '--auto-file-renaming=false', '--file-allocation=none', '--console-log-level=warn', '--summary-interval=0', '-q']);
  rmSync(dir, { recursive: true, force: true });
  rmSync(list, { force: true });
  return r;
}

const hub = await startFakehub();
hubPid = hub.child.pid;
const best = (xs) => Math.max(...xs);
const threadSum = (r, k) => Object.values(r.threads ?? {}).reduce((a, g) => a + g[k], 0);
const cpuLine = (r) =>
  `CPU ${fmt(r.cpu, 2)} s (user ${fmt(threadSum(r, 'user'), 2)}, system ${fmt(threadSum(r, 'system'), 2)}; ` +
  Object.entries(r.threads ?? {}).map(([role, g]) => `${role} ${fmt(g.user + g.system, 2)}`).join(', ') +
  `), fakehub ${fmt(r.hubCpu, 2)} s`;
const report = [];
try {
  // Warm-up: the first resolve of each file makes fakehub hash it (cached per machine).
  execFileSync('curl', ['-s', '-o', '/dev/null', '-I', `${hub.hubUrl}/datasets/bench/big/resolve/main/data/big.bin`]);

  if (!skip.has('A')) {
    const rows = { hfhpc: [], curl: [] };
    for (let i = 0; i < runs; i++) {
      const order = i % 2 === 0 ? ['hfhpc', 'curl'] : ['curl', 'hfhpc'];
      for (const who of order) {
        const r = who === 'hfhpc' ? await hfhpcRun(hub.hubUrl, 'bench/big', 1, `a${i}`) : await curlRun(hub.hubUrl, `a${i}`);
        rows[who].push(r);
        console.log(`A run ${i + 1} ${who.padEnd(6)} ${fmt(mbps(size, r.ms))} MB/s  peak RSS ${fmt(r.rss / MiB)} MiB  ${cpuLine(r)}`);
      }
    }
    const hs = rows.hfhpc.map((r) => mbps(size, r.ms));
    const cs = rows.curl.map((r) => mbps(size, r.ms));
    const [h, c] = [median(hs), median(cs)];
    const gib = size / 2 ** 30;
    const ht = threadTable(rows.hfhpc, gib, 'GiB');
    const ct = threadTable(rows.curl, gib, 'GiB');
    report.push(
      `A. one ${values.size} LFS file: hfhpc work ${fmt(h)} MB/s (verified, placed, recorded) vs curl ${fmt(c)} MB/s: ratio ${fmt(h / c, 2)} (best runs ${fmt(best(hs))} / ${fmt(best(cs))} = ${fmt(best(hs) / best(cs), 2)}; target ≥ 0.90); ` +
        `hfhpc peak RSS ${fmt(Math.max(...rows.hfhpc.map((r) => r.rss)) / MiB)} MiB\n` +
        `   CPU, medians over ${runs} runs (per thread group: threads, user u + system s):\n` +
        `   hfhpc work: ${ht.text}\n` +
        `   curl:       ${ct.text}\n` +
        `   ratio hfhpc / curl: ${fmt(ht.total / ct.total, 2)} (target ≤ 2.00); fakehub (other process, not counted) ${fmt(median([...rows.hfhpc, ...rows.curl].map((r) => r.hubCpu)) / gib, 2)} s per GiB`,
    );
  }

  if (!skip.has('B')) {
    const total = fileCount * fileSize;
    const rows = { hfhpc: [], aria2c: [] };
    for (let i = 0; i < manyRuns; i++) {
      const order = i % 2 === 0 ? ['hfhpc', 'aria2c'] : ['aria2c', 'hfhpc'];
      for (const who of order) {
        const r = who === 'hfhpc' ? await hfhpcRun(hub.hubUrl, 'bench/many', 8, `b${i}`) : await aria2Run(hub.hubUrl, `b${i}`);
        rows[who].push(r);
        console.log(`B run ${i + 1} ${who.padEnd(6)} ${fmt(mbps(total, r.ms))} MB/s  ${fmt(fileCount / (r.ms / 1000))} files/s  peak RSS ${fmt(r.rss / MiB)} MiB  ${cpuLine(r)}`);
      }
    }
    const hs = rows.hfhpc.map((r) => mbps(total, r.ms));
    const as = rows.aria2c.map((r) => mbps(total, r.ms));
    const [h, a] = [median(hs), median(as)];
    const gb = total / 1e9;
    const ht = threadTable(rows.hfhpc, gb, 'GB');
    const at = threadTable(rows.aria2c, gb, 'GB');
    report.push(
      `B. ${fileCount} × ${values['file-size']} LFS files: hfhpc work --concurrency 8 ${fmt(h)} MB/s vs aria2c -j8 ${fmt(a)} MB/s: ratio ${fmt(h / a, 2)} (best runs ${fmt(best(hs))} / ${fmt(best(as))} = ${fmt(best(hs) / best(as), 2)}; target ≥ 1.50)\n` +
        `   CPU, medians over ${manyRuns} runs: hfhpc work: ${ht.text}\n` +
        `   aria2c: ${at.text}\n` +
        `   ratio hfhpc / aria2c ${fmt(ht.total / at.total, 2)}; fakehub ${fmt(median([...rows.hfhpc, ...rows.aria2c].map((r) => r.hubCpu)) / gb, 2)} s per GB`,
    );
  }

  if (!skip.has('C')) {
    const r = await hfhpcRun(hub.hubUrl, 'bench/streams', streams, 'c');
    const total = streams * streamSize;
    console.log(`C ${streams} × ${values['stream-size']} at once: ${fmt(mbps(total, r.ms))} MB/s, peak RSS ${fmt(r.rss / MiB)} MiB  ${cpuLine(r)}`);
    report.push(`C. ${streams} concurrent ${values['stream-size']} streams in one worker: peak RSS ${fmt(r.rss / MiB)} MiB (target < 150 MiB), ${fmt(mbps(total, r.ms))} MB/s`);
  }
  console.log(`\n${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, ${process.version}, load average before/after: ${loadBefore} / ${loadavg().map((x) => x.toFixed(2)).join(' ')}:`);
  for (const line of report) console.log(line);
} finally {
  hub.child.kill('SIGTERM');
  await new Promise((r) => hub.child.once('exit', r));
  rmSync(work, { recursive: true, force: true });
}

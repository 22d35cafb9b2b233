// Peak memory of one `hfhpc work --concurrency 8` process by the shape of its shard, against
// fakehub in its own process over loopback:
//   A. one shard of 20,000 tiny files      B. one shard of 100,000 tiny files
//   C. one shard of 8 LFS files of 1 GiB (8 concurrent streams)
// Each round plans into a fresh root (`hfhpc plan --shards 1`, not timed; the planner's files cap
// is raised so the shard really holds every file) and runs `hfhpc work` as a child with the Node
// options of the plan's rendered work command (as the array tasks run it), sampling its
// VmHWM (peak RSS) and CPU time (all threads, /proc/<pid>/stat) until it exits.
// `--hfhpc <path to cli/dist/bin.js>` measures another build (e.g. main's, for a before/after).
//   npm run bench -- memory [--hfhpc PATH] [--small 20000,100000] [--tiny-size 6]
//                           [--streams 8] [--stream-size 1GiB] [--skip A,B,C]
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { parseSize } = await import(join(repoRoot, 'packages', 'fakehub', 'dist', 'index.js'));
const { values } = parseArgs({
  options: {
    hfhpc: { type: 'string', default: join(repoRoot, 'packages', 'cli', 'dist', 'bin.js') },
    small: { type: 'string', default: '20000,100000' },
    'tiny-size': { type: 'string', default: '6' },
    streams: { type: 'string', default: '8' },
    'stream-size': { type: 'string', default: '1GiB' },
    skip: { type: 'string', default: '' },
  },
});
const hfhpc = resolve(values.hfhpc);
const smallCounts = values.small.split(',').filter(Boolean).map(Number);
const tinySize = parseSize({ value: values['tiny-size'] });
const streams = Number(values.streams);
const streamSize = parseSize({ value: values['stream-size'] });
const skip = new Set(values.skip.split(',').filter(Boolean));
const MiB = 1024 * 1024;
const fmt = (x, d = 0) => x.toFixed(d);
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');

const loadBefore = load();
const work = mkdtempSync(join(tmpdir(), 'hfhpc-memory-bench-'));

// No rate-limit headers: the worker would pace itself to the anonymous budget (3,000 resolves per
// 5 minutes), and memory is measured with the engine at full speed, its hardest case.
async function startFakehub() {
  const config = join(work, 'repos.yaml');
  const streamFiles = Array.from({ length: streams }, (_, i) => `{ path: data/s${i}.bin, size: ${streamSize}, seed: ${7000 + i}, lfs: true }`).join(', ');
  const small = smallCounts
    .map((n) => `  - id: bench/tiny-${n}\n    generate: { count: ${n}, prefix: "data/", size: ${tinySize}, lfs: false, perDir: 1000, seed: ${300000 + n} }\n`)
    .join('');
  writeFileSync(config, `repos:\n${small}  - id: bench/streams\n    files: [${streamFiles}]\n`);
  const ready = join(work, 'ready.json');
  const child = spawn(process.execPath, [join(repoRoot, 'packages', 'fakehub', 'dist', 'bin.js'), '--config', config, '--ready-file', ready, '--no-rate-limit-headers'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  while (!existsSync(ready)) await new Promise((r) => setTimeout(r, 50));
  return { child, ...JSON.parse(readFileSync(ready, 'utf8')) };
}

const TICK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** User and system CPU seconds (all threads) a process has used so far; undefined once gone. */
function cpuOf(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return { user: Number(fields[11]) / TICK, sys: Number(fields[12]) / TICK };
  } catch {
    return undefined;
  }
}

/** Peak RSS (VmHWM) and CPU of a running process, polled until it exits (the last read counts). */
function watchProcess(pid) {
  let peak = 0;
  let cpu = { user: 0, sys: 0 };
  const timer = setInterval(() => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) peak = Math.max(peak, Number(m[1]) * 1024);
    } catch {
      /* exited */
    }
    cpu = cpuOf(pid) ?? cpu;
  }, 25);
  return () => (clearInterval(timer), { rss: peak, cpu });
}

const workEnv = { PATH: process.env.PATH, HOME: process.env.HOME, HF_HOME: join(work, 'no-token') };

/** Node's options on the work command of the plan's rendered batch script: the worker is measured as the tasks run it. */
function scriptNodeOptions(root) {
  const line = readFileSync(join(root, '_hfhpc', 'plans', '1', 'download.sbatch'), 'utf8').split('\n').find((l) => / work --plan-id /.test(l));
  if (!line) throw new Error(`no work command in ${root}'s download.sbatch`);
  const words = line.split(' ');
  return words.slice(1, words.indexOf('work') - 1).filter((w) => w.startsWith('--'));
}

/** Plan `repo` as one shard into a fresh root (not timed), then run and watch `hfhpc work` as the batch script runs it. */
async function hfhpcRun(hubUrl, repo, files, tag) {
  const dir = join(work, tag);
  mkdirSync(dir, { recursive: true });
  const manifest = join(dir, 'm.yaml');
  writeFileSync(manifest, `allow_prefixes: [bench/]\nroot: ${join(dir, 'root')}\ndatasets:\n  - repo: ${repo}\n`);
  execFileSync(process.execPath, [hfhpc, 'plan', '--manifest', manifest, '--hub-url', hubUrl, '--shards', '1', '--max-files-per-shard', String(Math.max(files, 1)), '--quiet'], {
    env: workEnv,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const r = await new Promise((resolvePromise, reject) => {
    const t0 = performance.now();
    const args = [...scriptNodeOptions(join(dir, 'root')), hfhpc, 'work', '--task-id', '0', '--root', join(dir, 'root'), '--hub-url', hubUrl, '--concurrency', '8', '--log-level', 'warn'];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env: workEnv });
    const stop = watchProcess(child.pid);
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => {
      const ms = performance.now() - t0;
      const { rss, cpu } = stop();
      if (code !== 0) reject(new Error(`hfhpc work on ${repo} exited ${code}:\n${stderr.slice(-2000)}`));
      else resolvePromise({ ms, rss, cpu });
    });
  });
  rmSync(dir, { recursive: true, force: true });
  return r;
}

const hub = await startFakehub();
const report = [];
const line = (what, r) =>
  `${what}: peak RSS ${fmt(r.rss / MiB)} MiB (target < 150), wall ${fmt(r.ms / 1000, 1)} s, CPU user ${fmt(r.cpu.user, 1)} s + system ${fmt(r.cpu.sys, 1)} s`;
try {
  // Warm-up: fakehub hashes each big generated file once (cached per machine).
  if (!skip.has('C')) {
    for (let i = 0; i < streams; i++) execFileSync('curl', ['-s', '-o', '/dev/null', '-I', `${hub.hubUrl}/datasets/bench/streams/resolve/main/data/s${i}.bin`]);
  }
  const cases = [];
  smallCounts.forEach((n, i) => cases.push({ key: 'AB'[i] ?? `S${i}`, repo: `bench/tiny-${n}`, files: n, what: `${n} files of ${values['tiny-size']} B in one shard` }));
  cases.push({ key: 'C', repo: 'bench/streams', files: streams, what: `${streams} files of ${values['stream-size']} in one shard (${streams} concurrent streams)` });
  for (const c of cases) {
    if (skip.has(c.key)) continue;
    const r = await hfhpcRun(hub.hubUrl, c.repo, c.files, c.key);
    const text = line(`${c.key}. ${c.what}`, r);
    console.log(text);
    report.push(text);
  }
  console.log(`\n${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, ${process.version}, hfhpc ${hfhpc}, --concurrency 8, load average before/after: ${loadBefore} / ${load()}:`);
  for (const l of report) console.log(l);
} finally {
  hub.child.kill('SIGTERM');
  await new Promise((r) => hub.child.once('exit', r));
  rmSync(work, { recursive: true, force: true });
}

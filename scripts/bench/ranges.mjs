// Parallel ranges for one large file, `hfhpc work` end to end against fakehub in its own process:
//   A. every CDN connection capped (`--conn-rate`, like a real CDN edge): hfhpc work (verified,
//      placed, recorded) vs `aria2c -x8 -s8` (unverified) on the same file, alternating;
//   B. no cap: this build's hfhpc work vs another build's (`--baseline <repo>`, e.g. the main
//      worktree, its dist only run), alternating: parallel ranges must not slow the easy case.
// Wall-clock MB/s and CPU seconds (all threads, /proc/<pid>/stat) per run, medians.
//   npm run bench -- ranges [--size 2GiB] [--runs 3] [--conn-rate 50MB] [--baseline /work/main] [--skip A,B]
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { parseSize } = await import(join(repoRoot, 'packages', 'fakehub', 'dist', 'index.js'));
const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '2GiB' },
    runs: { type: 'string', default: '3' },
    'conn-rate': { type: 'string', default: '50MB' },
    baseline: { type: 'string' },
    skip: { type: 'string', default: '' },
  },
});
const size = parseSize({ value: values.size });
const runs = Number(values.runs);
const skip = new Set(values.skip.split(',').filter(Boolean));
if (!skip.has('A') && spawnSync('aria2c', ['--version'], { stdio: 'ignore' }).status !== 0) {
  console.error('aria2c is missing: install it with `apt-get install -y aria2` (Debian/Ubuntu), or pass --skip A');
  process.exit(2);
}
if (!skip.has('B') && !values.baseline) {
  console.error('B needs --baseline <repo root of the build to compare with> (its packages/cli/dist is run), or pass --skip B');
  process.exit(2);
}

const loadBefore = loadavg().map((x) => x.toFixed(2)).join(' ');
const work = mkdtempSync(join(tmpdir(), 'hfhpc-ranges-bench-'));
const mbps = (bytes, ms) => bytes / 1e6 / (ms / 1000);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (x, d = 0) => x.toFixed(d);
const TICK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
const workEnv = { PATH: process.env.PATH, HOME: process.env.HOME, HF_HOME: join(work, 'no-token') };

async function startFakehub(extra) {
  const config = join(work, 'repos.yaml');
  // The seed of the download bench's big file: fakehub's per-machine hash cache is shared.
  writeFileSync(config, `repos:\n  - id: bench/big\n    files: [{ path: data/big.bin, size: ${size}, seed: 20261128, lfs: true }]\n`);
  const ready = join(work, `ready-${extra.length}.json`);
  rmSync(ready, { force: true });
  const child = spawn(process.execPath, [join(repoRoot, 'packages', 'fakehub', 'dist', 'bin.js'), '--config', config, '--ready-file', ready, ...extra], { stdio: ['ignore', 'ignore', 'inherit'] });
  while (!existsSync(ready)) await new Promise((r) => setTimeout(r, 50));
  const hub = { child, ...JSON.parse(readFileSync(ready, 'utf8')) };
  // The first resolve makes fakehub hash the file (cached per machine): not timed.
  execFileSync('curl', ['-s', '-o', '/dev/null', '-I', `${hub.hubUrl}/datasets/bench/big/resolve/main/data/big.bin`]);
  return hub;
}

async function stopFakehub(hub) {
  hub.child.kill('SIGTERM');
  await new Promise((r) => hub.child.once('exit', r));
}

function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICK;
  } catch {
    return undefined;
  }
}

function spawnTimed(cmd, args, env = process.env) {
  return new Promise((resolvePromise, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], env });
    let cpu = 0;
    const timer = setInterval(() => (cpu = cpuSeconds(child.pid) ?? cpu), 25);
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => {
      clearInterval(timer);
      const ms = performance.now() - t0;
      if (code !== 0) reject(new Error(`${cmd} ${args.slice(0, 3).join(' ')} … exited ${code}:\n${stderr.slice(-2000)}`));
      else resolvePromise({ ms, cpu });
    });
  });
}

/** Plan into a fresh root (not timed), then time `hfhpc work` of the build at `root`. */
async function hfhpcRun(root, hubUrl, tag) {
  const bin = join(root, 'packages', 'cli', 'dist', 'bin.js');
  const dir = join(work, tag);
  mkdirSync(dir, { recursive: true });
  const manifest = join(dir, 'm.yaml');
  writeFileSync(manifest, `allow_prefixes: [bench/]\nroot: ${join(dir, 'root')}\ndatasets:\n  - repo: bench/big\n`);
  execFileSync(process.execPath, [bin, 'plan', '--manifest', manifest, '--hub-url', hubUrl, '--shards', '1', '--quiet'], { env: workEnv, stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    return await spawnTimed(process.execPath, [bin, 'work', '--task-id', '0', '--root', join(dir, 'root'), '--hub-url', hubUrl, '--log-level', 'warn'], workEnv);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function aria2Run(hubUrl, tag) {
  const dir = join(work, tag);
  mkdirSync(dir, { recursive: true });
  try {
    return await spawnTimed('aria2c', ['-x8', '-s8', '-d', dir, '-o', 'big.bin', '--allow-overwrite=true', '--auto-file-renaming=false', '--file-allocation=none', '--console-log-level=warn', '--summary-interval=0', '-q', `${hubUrl}/datasets/bench/big/resolve/main/data/big.bin`]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function sideBySide(label, sides) {
  const names = Object.keys(sides);
  const rows = Object.fromEntries(names.map((n) => [n, []]));
  for (let i = 0; i < runs; i++) {
    const order = i % 2 === 0 ? names : [...names].reverse();
    for (const who of order) {
      const r = await sides[who](`${label}${i}-${who}`);
      rows[who].push(r);
      console.log(`${label} run ${i + 1} ${who.padEnd(10)} ${fmt(mbps(size, r.ms))} MB/s  ${fmt(r.ms / 1000, 1)} s  CPU ${fmt(r.cpu, 2)} s`);
    }
  }
  const summary = Object.fromEntries(names.map((n) => [n, { mbps: median(rows[n].map((r) => mbps(size, r.ms))), s: median(rows[n].map((r) => r.ms / 1000)), cpu: median(rows[n].map((r) => r.cpu)) }]));
  return summary;
}

const report = [];
try {
  if (!skip.has('A')) {
    const hub = await startFakehub(['--conn-rate', values['conn-rate']]);
    try {
      const s = await sideBySide('A', { hfhpc: (t) => hfhpcRun(repoRoot, hub.hubUrl, t), 'aria2c-x8': (t) => aria2Run(hub.hubUrl, t) });
      report.push(
        `A. one ${values.size} LFS file, each connection capped at ${values['conn-rate']}/s: hfhpc work ${fmt(s.hfhpc.mbps)} MB/s (${fmt(s.hfhpc.s, 1)} s, CPU ${fmt(s.hfhpc.cpu, 2)} s; verified) vs aria2c -x8 -s8 ${fmt(s['aria2c-x8'].mbps)} MB/s (${fmt(s['aria2c-x8'].s, 1)} s, CPU ${fmt(s['aria2c-x8'].cpu, 2)} s; unverified): ratio ${fmt(s.hfhpc.mbps / s['aria2c-x8'].mbps, 2)} (target ≥ 0.90), medians of ${runs}`,
      );
    } finally {
      await stopFakehub(hub);
    }
  }
  if (!skip.has('B')) {
    const hub = await startFakehub([]);
    try {
      const s = await sideBySide('B', { this: (t) => hfhpcRun(repoRoot, hub.hubUrl, t), baseline: (t) => hfhpcRun(resolve(values.baseline), hub.hubUrl, t) });
      report.push(
        `B. one ${values.size} LFS file, no cap: this build ${fmt(s.this.mbps)} MB/s (CPU ${fmt(s.this.cpu, 2)} s) vs ${values.baseline} ${fmt(s.baseline.mbps)} MB/s (CPU ${fmt(s.baseline.cpu, 2)} s): ratio ${fmt(s.this.mbps / s.baseline.mbps, 2)} (target ≥ 1.00 within noise), medians of ${runs}`,
      );
    } finally {
      await stopFakehub(hub);
    }
  }
  console.log(`\n${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, ${process.version}, load average before/after: ${loadBefore} / ${loadavg().map((x) => x.toFixed(2)).join(' ')}:`);
  for (const line of report) console.log(line);
} finally {
  rmSync(work, { recursive: true, force: true });
}

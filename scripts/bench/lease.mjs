// `npm run bench -- lease [--procs 1,4,16,64] [--shards 2000] [--dirs DIR,DIR]`
// Claims + completions per second for N concurrent processes on one state database, on the
// local disk (os.tmpdir()) and on tmpfs (/dev/shm) as a reference, next to the raw rate of
// one process committing BEGIN IMMEDIATE transactions on the same filesystem. Each worker
// does what `hfhpc work` does per shard: claim (1 tx), mark its file done (1 tx), finish (1 tx).
// Uses the built packages/core/dist (npm run bench builds first).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const core = new URL('../../packages/core/dist/index.js', import.meta.url);
const { claimShard, createPlan, finishShard, listShards, markFileDone, openStore, shardFiles } = await import(core.href);

if (process.argv[2] === '--child') await child(process.argv.slice(3));
else await main();

async function main() {
  const { values } = parseArgs({
    options: {
      procs: { type: 'string', default: '1,4,16,64' },
      shards: { type: 'string', default: '2000' },
      dirs: { type: 'string', default: [tmpdir(), existsSync('/dev/shm') ? '/dev/shm' : null].filter(Boolean).join(',') },
    },
  });
  const procs = values.procs.split(',').map(Number);
  const shards = Number(values.shards);
  const rows = [];
  for (const base of values.dirs.split(',')) {
    const raw = rawTxRate(base);
    rows.push({ fs: base, what: 'raw: 1 process, BEGIN IMMEDIATE + 1 insert + COMMIT', procs: 1, seconds: raw.seconds, perSec: `${raw.txPerSec.toFixed(0)} tx/s` });
    const plan = planRate(base);
    rows.push({ fs: base, what: `createPlan: 100,000 files, one transaction`, procs: 1, seconds: plan.seconds, perSec: `${plan.filesPerSec.toFixed(0)} files/s` });
    for (const p of procs) {
      const r = await run({ base, procs: p, shards });
      rows.push({
        fs: base,
        what: `claim + file done + finish, ${shards} shards`,
        procs: p,
        seconds: r.seconds,
        perSec: `${r.shardsPerSec.toFixed(0)} shards/s (${(r.shardsPerSec * 3).toFixed(0)} tx/s)`,
        claimMs: `p50 ${r.p50.toFixed(1)} / p99 ${r.p99.toFixed(1)} / max ${r.max.toFixed(0)}`,
      });
      console.error(`  ${base} ${p} procs: ${r.shardsPerSec.toFixed(0)} shards/s`);
    }
  }
  console.log(`\nlease benchmark, ${new Date().toISOString().slice(0, 10)}, node ${process.version}`);
  console.log('| filesystem | what | processes | seconds | rate | claim latency ms (p50 / p99 / max) |');
  console.log('|---|---|---:|---:|---:|---|');
  for (const r of rows) console.log(`| ${r.fs} | ${r.what} | ${r.procs} | ${r.seconds.toFixed(2)} | ${r.perSec} | ${r.claimMs ?? ''} |`);
}

function newPlan(store, shards) {
  const files = Array.from({ length: shards }, (_, i) => {
    const oid = i.toString(16).padStart(40, '0');
    return { datasetRepo: 'bench/leases', path: `f/${i}.bin`, size: 1 + (i % 1000), oid, blob: oid, shardIdx: i };
  });
  return createPlan(store, {
    manifestPath: 'bench.yaml',
    manifestSha256: '0'.repeat(64),
    root: '/bench',
    hubUrl: 'http://127.0.0.1:1',
    datasets: [{ repo: 'bench/leases', revision: 'main', commitSha: 'c'.repeat(40) }],
    shards: files.map((f, idx) => ({ idx, bytesTotal: f.size, filesTotal: 1 })),
    files,
  });
}

function rawTxRate(base) {
  const dir = mkdtempSync(join(base, 'hfhpc-bench-lease-'));
  try {
    const store = openStore({ path: join(dir, 'raw.sqlite') });
    store.db.exec('CREATE TABLE t (x INTEGER)');
    const ins = store.db.prepare('INSERT INTO t VALUES (?)');
    const n = 500;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) store.write(() => ins.run(i));
    const seconds = (performance.now() - t0) / 1000;
    store.close();
    return { seconds, txPerSec: n / seconds };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function planRate(base) {
  const dir = mkdtempSync(join(base, 'hfhpc-bench-lease-'));
  try {
    const store = openStore({ path: join(dir, 'plan.sqlite') });
    const n = 100_000;
    const files = Array.from({ length: n }, (_, i) => {
      const oid = i.toString(16).padStart(40, '0');
      return { datasetRepo: 'bench/plan', path: `data/${i % 100}/${i}.parquet`, size: 1000 + i, oid, blob: oid, shardIdx: i % 100 };
    });
    const shards = Array.from({ length: 100 }, (_, idx) => ({ idx, bytesTotal: 0, filesTotal: 0 }));
    for (const f of files) {
      shards[f.shardIdx].bytesTotal += f.size;
      shards[f.shardIdx].filesTotal++;
    }
    const t0 = performance.now();
    createPlan(store, {
      manifestPath: 'bench.yaml',
      manifestSha256: '0'.repeat(64),
      root: '/bench',
      hubUrl: 'http://127.0.0.1:1',
      datasets: [{ repo: 'bench/plan', revision: 'main', commitSha: 'c'.repeat(40) }],
      shards,
      files,
    });
    const seconds = (performance.now() - t0) / 1000;
    store.close();
    return { seconds, filesPerSec: n / seconds };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function run({ base, procs, shards }) {
  const dir = mkdtempSync(join(base, 'hfhpc-bench-lease-'));
  const path = join(dir, 'state.sqlite');
  const store = openStore({ path });
  const children = [];
  try {
    const planId = newPlan(store, shards);
    const self = fileURLToPath(import.meta.url);
    for (let i = 0; i < procs; i++) {
      const c = spawn(process.execPath, [self, '--child', path, String(planId), String(i)], { stdio: ['pipe', 'pipe', 'inherit'] });
      const lines = createInterface({ input: c.stdout });
      const ready = new Promise((resolve) => lines.once('line', resolve));
      const result = new Promise((resolve, reject) => {
        let last = '';
        lines.on('line', (l) => (last = l));
        c.on('close', (code) => (code === 0 ? resolve(JSON.parse(last)) : reject(new Error(`bench child ${i} exited ${code}`))));
      });
      children.push({ c, ready, result });
    }
    await Promise.all(children.map((ch) => ch.ready)); // process start-up is not measured
    const t0 = performance.now();
    for (const ch of children) ch.c.stdin.end('go\n');
    const results = await Promise.all(children.map((ch) => ch.result));
    const seconds = (performance.now() - t0) / 1000;

    const done = results.reduce((n, r) => n + r.completed, 0);
    const notDone = listShards(store, planId).filter((s) => s.state !== 'done' || s.attempts !== 1).length;
    if (done !== shards || notDone) throw new Error(`bench sanity: ${done} completions for ${shards} shards, ${notDone} shards not done exactly once`);
    const lat = results.flatMap((r) => r.claimMs).sort((a, b) => a - b);
    const q = (p) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))];
    return { seconds, shardsPerSec: shards / seconds, p50: q(0.5), p99: q(0.99), max: lat[lat.length - 1] };
  } finally {
    for (const ch of children) if (ch.c.exitCode === null) ch.c.kill('SIGKILL');
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function child([path, planId, index]) {
  const store = openStore({ path });
  const owner = `bench_${index}@local:${process.pid}`;
  process.stdout.write('ready\n');
  for await (const line of createInterface({ input: process.stdin })) if (line === 'go') break;
  const claimMs = [];
  let completed = 0;
  for (;;) {
    const t0 = performance.now();
    const claim = claimShard(store, { planId: Number(planId), owner, preferIndex: Number(index), ttlMs: 600_000 });
    claimMs.push(performance.now() - t0);
    if (!claim) break;
    for (const f of shardFiles(store, claim.shardId)) markFileDone(store, claim, { fileId: f.id });
    finishShard(store, claim);
    completed++;
  }
  store.close();
  process.stdout.write(`${JSON.stringify({ completed, claimMs })}\n`);
  process.stdin.destroy();
}

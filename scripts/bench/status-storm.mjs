// `npm run bench -- status-storm [--files 1000000] [--workers 8] [--readers 16] [--seconds 20]
//     [--gap-ms 100] [--plan-files 100000] [--parts a,b,c]`
// a. Status cost: a plan of --files files (built straight through the store), then
//    `readStatus` in process (median of 15), the time its read transaction holds the shared
//    lock, and `hfhpc status --json` as a process next to `hfhpc --version` (node start-up).
// b. Readers never stall writers: --workers real `runWorker` processes whose download step
//    writes the blob locally (no network: the database and the event loop are measured),
//    first alone, then with --readers status loops, each phase on a fresh plan for --seconds.
//    Files/s ratio, leases lost, each worker's event-loop delay (perf_hooks) p99 / max.
// c. Plan creation (--plan-files files through createPlan) with the counter triggers and with
//    them dropped (the cost of keeping the counters at insert time).
// Each figure is printed next to its target. Uses the built dist (npm run bench builds first).
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir, cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const core = await import(join(root, 'packages', 'core', 'dist', 'index.js'));
const ops = await import(join(root, 'packages', 'ops', 'dist', 'index.js'));
const BIN = join(root, 'packages', 'cli', 'dist', 'bin.js');

const { values } = parseArgs({
  options: {
    files: { type: 'string', default: '1000000' },
    workers: { type: 'string', default: '8' },
    readers: { type: 'string', default: '16' },
    seconds: { type: 'string', default: '20' },
    'gap-ms': { type: 'string', default: '100' },
    'plan-files': { type: 'string', default: '100000' },
    parts: { type: 'string', default: 'a,b,c' },
  },
});
const parts = new Set(values.parts.split(','));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const time = (f) => {
  const t = performance.now();
  f();
  return performance.now() - t;
};
const rows = [];
const row = (what, value, target, ok) => rows.push({ what, value, target, ok: ok === undefined ? '' : ok ? 'yes' : 'NO' });
const work = mkdtempSync(join(tmpdir(), 'hfhpc-bench-storm-'));

/** A plan of `files` files in `shards` shards over 4 datasets, inserted set-based in SQL. */
function bigPlan(dbPath, files, shards) {
  const store = core.openStore({ path: dbPath });
  const planId = core.createPlan(store, {
    manifestPath: '/m.yaml', manifestSha256: 'ab'.repeat(32), root: work, hubUrl: 'https://huggingface.co',
    datasets: [0, 1, 2, 3].map((k) => ({ repo: `bench/storm-${k}`, revision: 'main', commitSha: 'c'.repeat(40) })),
    shards: Array.from({ length: shards }, (_, idx) => ({ idx, bytesTotal: 0, filesTotal: 0 })),
    files: [],
  });
  store.write((db) => {
    const ds = db.prepare('SELECT id FROM datasets WHERE plan_id = ? ORDER BY id').pluck().all(planId);
    const first = db.prepare('SELECT MIN(id) FROM shards WHERE plan_id = ?').pluck().get(planId);
    db.prepare(`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < @files - 1)
      INSERT INTO files (dataset_id, shard_id, path, size, oid, blob, state, bytes_done, updated_at)
      SELECT CASE i % 4 WHEN 0 THEN @d0 WHEN 1 THEN @d1 WHEN 2 THEN @d2 ELSE @d3 END, @first + i % @shards, 'data/' || i || '.parquet',
             1000 + i % 5000, printf('%040x', i), printf('%040x', i), CASE WHEN i % 2 THEN 'done' ELSE 'pending' END, 0, 1 FROM n`).run({
      files, shards, first, d0: ds[0], d1: ds[1], d2: ds[2], d3: ds[3],
    });
    db.prepare(`UPDATE shards SET (files_total, bytes_total) = (SELECT files, bytes FROM shard_progress WHERE shard_id = shards.id) WHERE plan_id = ?`).run(planId);
  });
  // Some failures, so status lists (a bounded number of) them.
  store.write((db) => db.prepare("UPDATE files SET state = 'failed', last_error = 'HTTP 403 GatedRepo: ' || path WHERE id % 997 = 0").run());
  return { store, planId };
}

async function partA() {
  const files = Number(values.files);
  const dbPath = join(work, 'a', 'state.sqlite');
  const t0 = performance.now();
  const { store, planId } = bigPlan(dbPath, files, 1000);
  const built = (performance.now() - t0) / 1000;
  for (let s = 0; s < 64; s++) core.claimShard(store, { planId, owner: `1_${s}@n:1`, preferIndex: s, ttlMs: 600_000 });
  store.close();
  const reader = core.openStore({ path: dbPath, readonly: true });
  const lock = [];
  const status = [];
  const scan = [];
  for (let k = 0; k < 15; k++) {
    lock.push(time(() => core.planProgress(reader, { now: Date.now(), rateWindowMs: 300_000 })));
    status.push(time(() => JSON.stringify(ops.readStatus({ store: reader }))));
  }
  for (let k = 0; k < 3; k++) scan.push(time(() => reader.read((db) => db.prepare('SELECT SUM(size), SUM(bytes_done) FROM files').get())));
  const report = ops.readStatus({ store: reader });
  reader.close();
  const cli = [];
  const version = [];
  for (let k = 0; k < 5; k++) {
    version.push(time(() => execFileSync(process.execPath, [BIN, '--help'], { stdio: 'pipe' })));
    cli.push(time(() => execFileSync(process.execPath, [BIN, 'status', '--json', '--no-slurm', '--db', dbPath], { stdio: 'pipe', maxBuffer: 1 << 28 })));
  }
  const f = files.toLocaleString('en');
  row(`a. ${f}-file plan built through the store (set-based insert, triggers on)`, `${built.toFixed(1)} s`, '');
  row(`a. status: read transaction (shared lock held), ${f} files, 1000 shards, median of 15`, `${median(lock).toFixed(1)} ms`, 'a few ms', median(lock) < 10);
  row(`a. status: readStatus in process (read + build the report), median of 15`, `${median(status).toFixed(1)} ms`, '< 100 ms', median(status) < 100);
  row(`a. status --json as a process, median of 5`, `${median(cli).toFixed(0)} ms`, '< 100 ms beyond start-up', median(cli) - median(version) < 100);
  row(`a. hfhpc --help as a process (node start-up), median of 5`, `${median(version).toFixed(0)} ms`, '');
  row(`a. reference: one pass over the files table (what status cost before), median of 3`, `${median(scan).toFixed(0)} ms`, '');
  const failed = Math.floor(files / 997);
  row(`a. status figures: files / failed / failed listed`, `${report.totals.files} / ${report.totals.files_failed} / ${report.failures.length}`, `${files} / ${failed} / ${Math.min(200, failed)}`,
    report.totals.files === files && report.totals.files_failed === failed && report.failures.length === Math.min(200, failed));
}

function startChild(script, arg) {
  const child = spawn(process.execPath, [join(here, script), JSON.stringify(arg)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let onReady;
  const ready = new Promise((r) => (onReady = r));
  const out = new Promise((res) => {
    let last = null;
    createInterface({ input: child.stdout }).on('line', (l) => {
      if (l === '{"ready":true}') onReady();
      else last = l;
    });
    child.on('exit', () => {
      onReady();
      res(last ? JSON.parse(last) : null);
    });
  });
  return { child, out, ready };
}

async function phase({ readers, workers, seconds, gapMs }) {
  const dir = mkdtempSync(join(work, 'b-'));
  const dbPath = join(dir, 'state.sqlite');
  const cacheRoot = join(dir, 'root');
  // Enough files that no phase runs out: 400 shards of 500 files of 1 KiB.
  const { store, planId } = bigPlan(dbPath, 200_000, 400);
  store.write((db) => db.prepare("UPDATE files SET state = 'pending', last_error = NULL, size = 1024 WHERE state <> 'pending'").run());
  store.write((db) => db.prepare('UPDATE shards SET bytes_total = (SELECT bytes FROM shard_progress WHERE shard_id = shards.id), state = \'pending\'').run());
  // What the planner writes (refs/, trees/): without it each worker would list a dataset's
  // files once to write the tree, which is not what this measures.
  for (const d of store.read((db) => db.prepare('SELECT id, repo, revision, commit_sha FROM datasets WHERE plan_id = ?').all(planId))) {
    const files = store.read((db) => db.prepare('SELECT path, size, oid, lfs_sha256 AS lfsSha256 FROM files WHERE dataset_id = ?').all(d.id));
    await core.writeRef({ root: cacheRoot, repo: d.repo, revision: d.revision, commit: d.commit_sha });
    await core.writeTree({ root: cacheRoot, repo: d.repo, commit: d.commit_sha, files });
  }
  const doneAt = () => store.read((db) => db.prepare('SELECT SUM(files_done) FROM shard_progress').pluck().get());
  const rs = Array.from({ length: readers }, () => startChild('_status-storm-reader.mjs', { dbPath, gapMs }));
  const ws = Array.from({ length: workers }, (_, i) => startChild('_status-storm-worker.mjs', { dbPath, cacheRoot, taskId: i, leaseTtlSeconds: 30, concurrency: 4 }));
  // Measure once every process runs, after a warm-up, over `seconds`.
  await Promise.all([...rs, ...ws].map((c) => c.ready));
  await new Promise((r) => setTimeout(r, 3000));
  for (const w of ws) w.child.kill('SIGUSR2');
  const d0 = doneAt();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const d1 = doneAt();
  const elapsed = (performance.now() - t0) / 1000;
  for (const w of ws) w.child.kill('SIGTERM');
  const wr = await Promise.all(ws.map((w) => w.out));
  for (const r of rs) r.child.kill('SIGTERM');
  const rr = await Promise.all(rs.map((r) => r.out));
  const stolen = store.read((db) => db.prepare("SELECT COUNT(*) FROM events WHERE plan_id = ? AND kind = 'claim' AND json_extract(detail, '$.via') = 'expired'").pluck().get(planId));
  store.close();
  rmSync(dir, { recursive: true, force: true });
  const ok = wr.filter(Boolean);
  const rok = rr.filter(Boolean);
  return {
    filesPerSec: (d1 - d0) / elapsed,
    lost: ok.reduce((n, w) => n + w.lost, 0),
    stolen,
    workerCpuS: ok.reduce((n, w) => n + w.cpuS, 0),
    readerCpuS: rok.reduce((n, r) => n + r.cpuS, 0),
    readerSplit: ["openCpuS", "readCpuS", "closeCpuS"].map((k) => rok.reduce((n, r) => n + (r[k] ?? 0), 0).toFixed(1)).join(" / "),
    p99: Math.max(...ok.map((w) => w.p99)),
    max: Math.max(...ok.map((w) => w.max)),
    exits: wr.map((w) => w?.exit ?? 'none'),
    reads: rr.filter(Boolean).reduce((n, r) => n + r.reads, 0),
    readP50: median(rr.filter(Boolean).map((r) => r.p50)),
    readMax: Math.max(0, ...rr.filter(Boolean).map((r) => r.max)),
  };
}

async function partB() {
  const workers = Number(values.workers);
  const readers = Number(values.readers);
  const seconds = Number(values.seconds);
  const gapMs = Number(values['gap-ms']);
  const alone = await phase({ readers: 0, workers, seconds, gapMs });
  console.error(`  b. alone: ${alone.filesPerSec.toFixed(0)} files/s, load ${loadavg()[0].toFixed(1)}`);
  const storm = await phase({ readers, workers, seconds, gapMs });
  console.error(`  b. with ${readers} readers: ${storm.filesPerSec.toFixed(0)} files/s, load ${loadavg()[0].toFixed(1)}`);
  const ratio = storm.filesPerSec / alone.filesPerSec;
  row(`b. ${workers} workers alone: files/s (event-loop p99 / max of the worst worker)`, `${alone.filesPerSec.toFixed(0)} (${alone.p99} / ${alone.max} ms)`, '');
  row(`b. ${workers} workers + ${readers} status loops (${gapMs} ms apart): files/s`, `${storm.filesPerSec.toFixed(0)}`, '');
  row('b. ratio with / without readers', ratio.toFixed(2), '≥ 0.8', ratio >= 0.8);
  row('b. leases lost (worker logs) / shards taken over from an expired lease (events), both phases', `${alone.lost + storm.lost} / ${alone.stolen + storm.stolen}`, '0 / 0', alone.lost + storm.lost + alone.stolen + storm.stolen === 0);
  row('b. CPU seconds used by the workers / by the status readers, storm phase (2 cores shared by all)', `${storm.workerCpuS.toFixed(1)} / ${storm.readerCpuS.toFixed(1)}`, '');
  row('b. status readers: CPU seconds in open / readStatus / close', storm.readerSplit, '');
  row(`b. worker event-loop delay with ${readers} readers: p99 (worst worker)`, `${storm.p99} ms`, '< 100 ms', storm.p99 < 100);
  row(`b. worker event-loop delay with ${readers} readers: max (worst worker)`, `${storm.max} ms`, '< 1000 ms', storm.max < 1000);
  row('b. status reads during the storm (all readers), latency p50 / max', `${storm.reads} reads, ${storm.readP50} / ${storm.readMax} ms`, '');
  row('b. worker exit codes (75: stopped by the bench, lease released)', [...new Set([...alone.exits, ...storm.exits])].join(','), '75', [...alone.exits, ...storm.exits].every((c) => c === 75));
}

function partC() {
  const n = Number(values['plan-files']);
  const plan = {
    manifestPath: '/m.yaml', manifestSha256: 'ab'.repeat(32), root: work, hubUrl: 'https://huggingface.co',
    datasets: [{ repo: 'bench/plan', revision: 'main', commitSha: 'c'.repeat(40) }],
    shards: Array.from({ length: 1000 }, (_, idx) => ({ idx, bytesTotal: 0, filesTotal: 0 })),
    files: Array.from({ length: n }, (_, i) => ({ datasetRepo: 'bench/plan', path: `data/${i}.bin`, size: 100 + (i % 1000), oid: i.toString(16).padStart(40, '0'), blob: i.toString(16).padStart(40, '0'), shardIdx: i % 1000 })),
  };
  for (const f of plan.files) {
    plan.shards[f.shardIdx].bytesTotal += f.size;
    plan.shards[f.shardIdx].filesTotal += 1;
  }
  const once = (triggers) => {
    const dir = mkdtempSync(join(work, 'c-'));
    const store = core.openStore({ path: join(dir, 'state.sqlite') });
    if (!triggers) store.write((db) => db.exec('DROP TRIGGER files_progress_insert; DROP TRIGGER shards_progress_row; DROP TRIGGER datasets_progress_row'));
    const ms = time(() => core.createPlan(store, plan));
    store.close();
    rmSync(dir, { recursive: true, force: true });
    return ms;
  };
  const withT = [];
  const without = [];
  for (let k = 0; k < 3; k++) {
    without.push(once(false));
    withT.push(once(true));
  }
  const f = n.toLocaleString('en');
  row(`c. createPlan, ${f} files, counter triggers dropped (as before), median of 3`, `${median(without).toFixed(0)} ms`, '');
  row(`c. createPlan, ${f} files, counter triggers on, median of 3`, `${median(withT).toFixed(0)} ms (×${(median(withT) / median(without)).toFixed(2)})`, 'small next to listing the Hub');
}

try {
  const load0 = loadavg();
  if (parts.has('a')) await partA();
  if (parts.has('c')) partC();
  if (parts.has('b')) await partB();
  console.log(`\nstatus-storm benchmark, ${new Date().toISOString()}, node ${process.version}, ${cpus().length} cpus, load average at start ${load0.map((x) => x.toFixed(2)).join(' ')}, at end ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  console.log('| what | measured | target | met |');
  console.log('|---|---:|---|---|');
  for (const r of rows) console.log(`| ${r.what} | ${r.value} | ${r.target} | ${r.ok} |`);
} finally {
  rmSync(work, { recursive: true, force: true });
}

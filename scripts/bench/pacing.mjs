// `npm run bench -- pacing [--files 400] [--workers 4] [--quota 40] [--window 10]
//     [--concurrency 8] [--variants paced,off]`
// Pacing to the Hub's request budget: fakehub (in this process) allows --quota resolves per
// --window seconds per token, answers 429 past it and states the budget in RateLimit /
// RateLimit-Policy headers. --workers real `hfhpc work` processes fetch --files tiny files (one
// resolve each) of one plan. Per variant: resolves sent, the share answered 429, the time from
// starting the workers to the last exit, and that time over the budget's minimum: a client
// that knows where fakehub's windows start (aligned on the epoch) and spends --quota resolves
// at the start of each window, from the window of the first resolve on, sends its last resolve
// at the start of window ceil(files / quota) - 1; measured from the workers' start (so the
// processes' start-up is in it). That depends on where in its window the first resolve fell;
// (ceil(files / quota) - 1) windows, the minimum when the first resolve falls at a window's
// very end, is printed beside it as the lower bound over phases.
// Variants: `paced` (the default worker) and `off` (HFHPC_PACING=off: only the 429 +
// Retry-After pause, as before pacing) for reference. Uses the built dist (npm run bench builds).
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const hfhpc = join(repoRoot, 'packages', 'cli', 'dist', 'bin.js');
const { startFakeHub } = await import(join(repoRoot, 'packages', 'fakehub', 'dist', 'index.js'));

const { values } = parseArgs({
  options: {
    files: { type: 'string', default: '400' },
    workers: { type: 'string', default: '4' },
    quota: { type: 'string', default: '40' },
    window: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '8' },
    variants: { type: 'string', default: 'paced,off' },
  },
});
const files = Number(values.files);
const workers = Number(values.workers);
const quota = Number(values.quota);
const windowS = Number(values.window);
const concurrency = Number(values.concurrency);
const TOKEN = 'hf_benchPacing0123456789abcdefXYZ';
const work = mkdtempSync(join(tmpdir(), 'hfhpc-bench-pacing-'));
const loadBefore = loadavg().map((x) => x.toFixed(2)).join(' ');

async function runVariant(variant) {
  // A fresh hub per variant: its budget counts start at zero.
  const hub = await startFakeHub({
    config: {
      tokens: [{ token: TOKEN, user: 'bench', canAccessGated: ['*'] }],
      repos: [{ id: 'bench/tiny', generate: { count: files, prefix: 'data/', size: [100, 2000], lfs: false, ext: '.txt' } }],
    },
    hashCacheDir: false,
    rateLimits: { windowSeconds: windowS, resolvers: quota, enforce: true },
  });
  const dir = join(work, variant);
  mkdirSync(dir, { recursive: true });
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, HF_HOME: join(dir, 'hf-home'), HF_TOKEN: TOKEN, ...(variant === 'off' ? { HFHPC_PACING: 'off' } : {}) };
  try {
    const manifest = join(dir, 'm.yaml');
    writeFileSync(manifest, `allow_prefixes: [bench/]\nroot: ${join(dir, 'root')}\ndatasets:\n  - repo: bench/tiny\n`);
    // Not execFileSync: the hub answers from this process's event loop.
    await promisify(execFile)(process.execPath, [hfhpc, 'plan', '--manifest', manifest, '--hub-url', hub.hubUrl, '--shards', String(workers * 4), '--quiet'], { env });
    hub.resetRequests();
    const started = Date.now();
    const codes = await Promise.all(
      Array.from({ length: workers }, (_, i) =>
        new Promise((done) => {
          const child = spawn(process.execPath, [hfhpc, 'work', '--task-id', String(i), '--root', join(dir, 'root'), '--hub-url', hub.hubUrl, '--concurrency', String(concurrency), '--log-level', 'error'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
          child.on('close', (code) => done(code));
        }),
      ),
    );
    const elapsed = (Date.now() - started) / 1000;
    const resolves = hub.requests.filter((r) => r.host === 'hub' && r.endpoint === 'resolve');
    const limited = resolves.filter((r) => r.status === 429).length;
    const firstAt = Math.min(...resolves.map((r) => r.at));
    const windows = Math.ceil(files / quota);
    const lastWindowStart = (Math.floor(firstAt / 1000 / windowS) + windows - 1) * windowS * 1000;
    const minimum = Math.max(0, lastWindowStart - started) / 1000;
    const lowestMinimum = (windows - 1) * windowS;
    return { variant, codes, elapsed, resolves: resolves.length, limited, minimum, lowestMinimum, firstPhase: ((firstAt / 1000) % windowS).toFixed(1) };
  } finally {
    await hub.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const rows = [];
for (const v of values.variants.split(',')) {
  console.error(`pacing: running ${v}…`);
  rows.push(await runVariant(v));
}
rmSync(work, { recursive: true, force: true });
const loadAfter = loadavg().map((x) => x.toFixed(2)).join(' ');
console.log(`\npacing benchmark, ${new Date().toISOString().slice(0, 16)}Z, node ${process.version}, ${cpus().length} cores, load average before ${loadBefore}, after ${loadAfter}`);
console.log(`${workers} workers × --concurrency ${concurrency}, ${files} files (one resolve each), fakehub budget ${quota} resolves / ${windowS} s, 429 past it; targets (paced): ≤ 2% answered 429, ≤ 1.15× the budget's minimum time`);
console.log('| variant | exit codes | resolves | answered 429 | share | time s | first resolve at s into its window | budget minimum s (this phase / lowest) | time / minimum (this phase / lowest) | ok |');
console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|---|');
for (const r of rows) {
  const share = r.limited / r.resolves;
  // One window or less: the budget sets no minimum (the run measures the pacer's overhead).
  const limited = r.lowestMinimum > 0;
  const ok = r.variant === 'paced' ? (share <= 0.02 && (!limited || r.elapsed <= 1.15 * r.minimum) && r.codes.every((c) => c === 0) ? 'yes' : 'NO') : '';
  const minimum = limited ? `${r.minimum.toFixed(1)} / ${r.lowestMinimum.toFixed(1)}` : 'n/a';
  const ratio = limited ? `${(r.elapsed / r.minimum).toFixed(3)} / ${(r.elapsed / r.lowestMinimum).toFixed(3)}` : 'n/a';
  console.log(`| ${r.variant} | ${r.codes.join(' ')} | ${r.resolves} | ${r.limited} | ${(100 * share).toFixed(1)}% | ${r.elapsed.toFixed(1)} | ${r.firstPhase} | ${minimum} | ${ratio} | ${ok} |`);
}

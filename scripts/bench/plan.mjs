// hfhpc plan on a 100,000-file repo: fakehub serves the tree in pages of 1,000 entries and the
// planner pins, lists every page, shards into 1,000 shards, stores the plan in SQLite, writes
// refs/ + trees/ and renders the scripts. Next to it, in the same run, the pure listing cost:
// curl fetching the same pages one by one, following the `Link` header.
// Target (issue 4): planner ≤ 1.5 × the curl listing, peak RSS < 300 MB.
//   npm run bench -- plan [--files 100000] [--shards 1000] [--runs 3]
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const fakehubBin = join(root, 'packages', 'fakehub', 'dist', 'bin.js');
const hfhpcBin = join(root, 'packages', 'cli', 'dist', 'bin.js');
const { values } = parseArgs({
  options: { files: { type: 'string', default: '100000' }, shards: { type: 'string', default: '1000' }, runs: { type: 'string', default: '3' } },
});
const fileCount = Number(values.files);
const shards = Number(values.shards);
const runs = Number(values.runs);
const work = mkdtempSync(join(tmpdir(), 'hfhpc-bench-plan-'));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function startFakehub() {
  const config = join(work, 'hub.yaml');
  // Sizes vary so the sharder has real work; content is tiny so hashing stays quick.
  writeFileSync(config, `repos:\n  - id: bench/many\n    generate: { count: ${fileCount}, prefix: "data/", size: [1KiB, 64KiB], lfs: true, perDir: 1000, ext: .parquet }\n`);
  const ready = join(work, 'ready.json');
  const child = spawn(process.execPath, [fakehubBin, '--config', config, '--ready-file', ready, '--page-size', '1000', '--prehash'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  while (!existsSync(ready)) await new Promise((r) => setTimeout(r, 50));
  return { child, ...JSON.parse(readFileSync(ready, 'utf8')) };
}

/** Pure listing: the revision request, then every tree page, following Link, with curl. */
function curlListing(hubUrl) {
  const t0 = performance.now();
  const info = JSON.parse(execFileSync('curl', ['-sf', `${hubUrl}/api/datasets/bench/many/revision/main?expand=sha`], { encoding: 'utf8' }));
  let url = `${hubUrl}/api/datasets/bench/many/tree/${info.sha}?recursive=true&expand=false`;
  let pages = 0;
  let entries = 0;
  const headers = join(work, 'headers.txt');
  while (url) {
    const body = execFileSync('curl', ['-sf', '-D', headers, url], { encoding: 'utf8', maxBuffer: 1 << 28 });
    entries += JSON.parse(body).length;
    pages += 1;
    const link = /^link:\s*<([^>]+)>;\s*rel="next"/im.exec(readFileSync(headers, 'utf8'));
    url = link ? link[1] : undefined;
  }
  return { ms: performance.now() - t0, pages, entries };
}

/** The real CLI in its own process; peak RSS from the child's own resource usage. */
function planOnce(hubUrl, run) {
  const dir = join(work, `run-${run}`);
  const manifest = join(work, 'manifest.yaml');
  writeFileSync(manifest, `allow_prefixes: [bench/]\ndatasets:\n  - repo: bench/many\n`);
  const rssFile = join(work, `rss-${run}.txt`);
  const wrapper = join(work, `rss-${run}.mjs`);
  writeFileSync(wrapper, `import { writeFileSync } from 'node:fs';\nprocess.on('exit', () => writeFileSync(${JSON.stringify(rssFile)}, String(process.resourceUsage().maxRSS)));\n`);
  const t0 = performance.now();
  const out = execFileSync(
    process.execPath,
    ['--import', wrapper, hfhpcBin, 'plan', '--manifest', manifest, '--root', dir, '--shards', String(shards), '--json', '--quiet', '--force'],
    { encoding: 'utf8', env: { PATH: process.env.PATH, HOME: work, HF_HOME: join(work, 'hf-home'), HF_ENDPOINT: hubUrl }, maxBuffer: 1 << 26 },
  );
  const ms = performance.now() - t0;
  const result = JSON.parse(out);
  if (result.files !== fileCount || result.shards !== shards) throw new Error(`planned ${result.files} files in ${result.shards} shards`);
  return { ms, rssMb: Number(readFileSync(rssFile, 'utf8')) / 1024 };
}

const hub = await startFakehub();
try {
  // One warm-up of each so neither side pays for cold caches.
  curlListing(hub.hubUrl);
  planOnce(hub.hubUrl, 'warm');
  const curl = [];
  const plan = [];
  for (let i = 0; i < runs; i++) {
    curl.push(curlListing(hub.hubUrl));
    plan.push(planOnce(hub.hubUrl, i));
  }
  const c = median(curl.map((r) => r.ms));
  const p = median(plan.map((r) => r.ms));
  const rss = Math.max(...plan.map((r) => r.rssMb));
  console.log(`plan benchmark: ${fileCount} files, ${curl[0].pages} tree pages (${curl[0].entries} entries), ${shards} shards, median of ${runs}; load average ${loadavg()[0].toFixed(1)}`);
  console.log(`  curl listing (info + every page)   ${(c / 1000).toFixed(2)} s`);
  console.log(`  hfhpc plan (whole command)         ${(p / 1000).toFixed(2)} s   = ${(p / c).toFixed(2)} x listing   peak RSS ${rss.toFixed(0)} MB`);
  console.log(`  target: <= 1.50 x listing, < 300 MB: ${p / c <= 1.5 && rss < 300 ? 'met' : 'NOT met'}`);
} finally {
  hub.child.kill('SIGTERM');
  rmSync(work, { recursive: true, force: true });
}

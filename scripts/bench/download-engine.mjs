// Download engine throughput: one large LFS file from fakehub (its own process) over loopback,
// `curl -L -o file` (unverified: the limit of loopback plus disk here) against downloadBlob
// (verified sha256 while streaming, no second read), alternating, each in its own process;
// then N concurrent streams through one engine process for its peak RSS. The engine also runs
// with `--no-incremental-marking`: in a process with all of @hfhpc/core loaded, V8 often (not
// always) starts ~60 incremental marking cycles per GiB streamed, which doubles the CPU cost;
// the flag (also settable at run time with v8.setFlagsFromString) removes them.
//   npm run bench -- download-engine [--size 2GiB] [--runs 3] [--streams 8] [--stream-size 1GiB]
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const { parseSize } = await import(join(root, 'packages', 'fakehub', 'dist', 'index.js'));
const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '2GiB' },
    runs: { type: 'string', default: '3' },
    streams: { type: 'string', default: '8' },
    'stream-size': { type: 'string', default: '1GiB' },
  },
});
const size = parseSize({ value: values.size });
const runs = Number(values.runs);
const streams = Number(values.streams);
const streamSize = parseSize({ value: values['stream-size'] });
const work = mkdtempSync(join(tmpdir(), 'download-engine-bench-'));
const gbps = (bytes, ms) => bytes / 1e9 / (ms / 1000);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (x) => x.toFixed(2);

async function startFakehub() {
  const config = join(work, 'repos.yaml');
  // Seed 20261128 as in the fakehub bench, so the per-machine hash cache is shared.
  const many = Array.from({ length: streams }, (_, i) => `{ path: data/s${i}.bin, size: ${streamSize}, seed: ${7000 + i} }`).join(', ');
  writeFileSync(config, `repos:\n  - id: bench/big\n    files: [{ path: data/big.bin, size: ${size}, seed: 20261128 }, ${many}]\n`);
  const ready = join(work, 'ready.json');
  const child = spawn(process.execPath, [join(root, 'packages', 'fakehub', 'dist', 'bin.js'), '--config', config, '--ready-file', ready], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  while (!existsSync(ready)) await new Promise((r) => setTimeout(r, 50));
  return { child, ...JSON.parse(readFileSync(ready, 'utf8')) };
}

/** The file's identity as the Hub states it on resolve (the first resolve hashes the file). */
function describe(hubUrl, path) {
  const url = `${hubUrl}/datasets/bench/big/resolve/main/${path}`;
  const head = execFileSync('curl', ['-sI', url], { encoding: 'utf8' });
  const sha256 = /^x-linked-etag: "?([0-9a-f]{64})/im.exec(head)?.[1];
  const fileSize = Number(/^x-linked-size: (\d+)/im.exec(head)?.[1]);
  if (!sha256) throw new Error(`no X-Linked-Etag for ${path}:\n${head}`);
  return { url, repo: 'bench/big', path, sha256, size: fileSize };
}

const timeBin = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

/** curl's wall time, and its CPU time when /usr/bin/time is there. */
function curlRun(url, out) {
  const args = ['-s', '-L', '-o', out, '-w', '%{size_download} %{time_total}\n', url];
  const res = timeBin
    ? execFileSync(timeBin, ['-f', 'cpu %U %S', 'curl', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
    : execFileSync('curl', args, { encoding: 'utf8' });
  const [bytes, secs] = res.trim().split('\n')[0].split(' ').map(Number);
  if (bytes !== size) throw new Error(`curl got ${bytes} bytes`);
  return { ms: secs * 1000 };
}

function curlCpuMs(url, out) {
  if (!timeBin) return undefined;
  const r = spawnSync(timeBin, ['-f', 'cpu %U %S', 'curl', '-s', '-L', '-o', out, url], { encoding: 'utf8' });
  const m = /cpu ([\d.]+) ([\d.]+)/.exec(r.stderr);
  return m ? (Number(m[1]) + Number(m[2])) * 1000 : undefined;
}

const TUNED = ['--no-incremental-marking'];

function engineRun(hubUrl, dir, files, flags = []) {
  mkdirSync(dir, { recursive: true });
  const out = execFileSync(process.execPath, [...flags, join(here, '_download-engine-child.mjs'), JSON.stringify({ hubUrl, dir, files })], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return JSON.parse(out.trim().split('\n').at(-1));
}

const hub = await startFakehub();
try {
  const big = describe(hub.hubUrl, 'data/big.bin');
  const rows = { curl: [], engine: [], tuned: [] };
  const cpu = { curl: [], engine: [], tuned: [], engineMain: [], tunedMain: [] };
  const rss = [];
  for (let i = 0; i < runs; i++) {
    // Rotate who goes first, so page-cache and writeback effects do not favour one side.
    const order = ['curl', 'engine', 'tuned'];
    for (let k = 0; k < i % order.length; k++) order.push(order.shift());
    for (const who of order) {
      const dir = join(work, `run${i}-${who}`);
      mkdirSync(dir, { recursive: true });
      if (who === 'curl') {
        rows.curl.push(gbps(size, curlRun(big.url, join(dir, 'curl.bin')).ms));
        rmSync(join(dir, 'curl.bin'), { force: true });
        const ms = curlCpuMs(big.url, join(dir, 'curl.bin'));
        if (ms !== undefined) cpu.curl.push(ms);
      } else {
        const r = engineRun(hub.hubUrl, dir, [big], who === 'tuned' ? TUNED : []);
        rows[who].push(gbps(r.bytes, r.ms));
        rss.push(r.maxRssMiB);
        cpu[who].push(r.cpuUserMs + r.cpuSysMs);
        const main = r.threads?.find((t) => t.main)?.ms;
        if (main !== undefined) cpu[`${who}Main`].push(main);
      }
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const many = Array.from({ length: streams }, (_, i) => describe(hub.hubUrl, `data/s${i}.bin`));
  const conc = engineRun(hub.hubUrl, join(work, 'concurrent'), many);
  rmSync(join(work, 'concurrent'), { recursive: true, force: true });
  const concTuned = engineRun(hub.hubUrl, join(work, 'concurrent'), many, TUNED);
  rmSync(join(work, 'concurrent'), { recursive: true, force: true });

  console.log(`download engine: one ${(size / 2 ** 30).toFixed(2)} GiB LFS file from fakehub over loopback to ${tmpdir()}, ${runs} runs each, alternating (GB/s = 1e9 bytes/s)`);
  console.log(`  curl -L -o file (unverified)        median ${fmt(median(rows.curl))} GB/s  (runs: ${rows.curl.map(fmt).join(', ')})`);
  console.log(`  downloadBlob (sha256 verified)      median ${fmt(median(rows.engine))} GB/s  (runs: ${rows.engine.map(fmt).join(', ')})`);
  console.log(`  same, node ${TUNED.join(' ')}  median ${fmt(median(rows.tuned))} GB/s  (runs: ${rows.tuned.map(fmt).join(', ')})`);
  console.log(`  ratio engine / curl: ${fmt(median(rows.engine) / median(rows.curl))}, tuned ${fmt(median(rows.tuned) / median(rows.curl))} (target >= 0.90); engine peak RSS ${Math.round(Math.max(...rss))} MiB`);
  for (const [name, r] of [['', conc], [', tuned', concTuned]]) {
    console.log(`  ${streams} concurrent ${(streamSize / 2 ** 30).toFixed(2)} GiB streams in one process${name}: ${fmt(gbps(r.bytes, r.ms))} GB/s total, peak RSS ${Math.round(r.maxRssMiB)} MiB (target < 150)`);
  }
  const perGiB = (xs) => (xs.length ? `${(median(xs) / 1000 / (size / 2 ** 30)).toFixed(2)} s` : 'n/a');
  console.log(`  CPU per GiB (median; less sensitive to other load than wall time): curl ${perGiB(cpu.curl)};` +
    ` engine ${perGiB(cpu.engine)} (main thread ${perGiB(cpu.engineMain)}); tuned ${perGiB(cpu.tuned)} (main thread ${perGiB(cpu.tunedMain)})`);
  console.log(`  load average at the end: ${(await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ')} (other work on the machine skews every figure)`);
} finally {
  hub.child.kill('SIGTERM');
  rmSync(work, { recursive: true, force: true });
}

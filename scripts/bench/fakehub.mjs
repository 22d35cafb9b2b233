// fakehub throughput: one multi-GB LFS file over loopback, read by curl and by a Node http
// client that discards the bytes, next to a reference server (bare node:http repeating one
// buffer: the ceiling for any Node server here). Also times a 100,000-file tree listing.
// Wall-clock figures depend on what else the 2 cores do; the server's own CPU time per byte
// (from /proc) does not, so the bench also prints the rate one server core could sustain.
//   npm run bench -- fakehub [--size 4GiB] [--runs 3] [--files 100000]
import { spawn, execFileSync } from 'node:child_process';
import { get } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = join(root, 'packages', 'fakehub', 'dist', 'bin.js');
const { parseSize } = await import(join(root, 'packages', 'fakehub', 'dist', 'index.js'));

const { values } = parseArgs({ options: { size: { type: 'string', default: '4GiB' }, runs: { type: 'string', default: '3' }, files: { type: 'string', default: '100000' } } });
const size = parseSize({ value: values.size });
const runs = Number(values.runs);
const fileCount = Number(values.files);
const work = mkdtempSync(join(tmpdir(), 'fakehub-bench-'));

const gbps = (bytes, ms) => bytes / 1e9 / (ms / 1000);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (x) => x.toFixed(2);

async function startFakehub() {
  const config = join(work, 'repos.yaml');
  writeFileSync(
    config,
    `repos:\n  - id: bench/big\n    files: [{ path: data/big.bin, size: ${size}, seed: 20261128 }]\n` +
      `  - id: bench/many\n    generate: { count: ${fileCount}, prefix: "data/", size: 1024, perDir: 1000 }\n`,
  );
  const ready = join(work, 'ready.json');
  const child = spawn(process.execPath, [bin, '--config', config, '--ready-file', ready], { stdio: ['ignore', 'ignore', 'inherit'] });
  while (!existsSync(ready)) await new Promise((r) => setTimeout(r, 50));
  return { child, ...JSON.parse(readFileSync(ready, 'utf8')) };
}

function nodeRead(url) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    get(url, { agent: false }, (res) => {
      let n = 0;
      res.on('data', (c) => (n += c.length));
      res.on('end', () => resolve({ bytes: n, ms: performance.now() - t0 }));
      res.on('error', reject);
    }).on('error', reject);
  });
}

function curlRead(url, extra = []) {
  const out = execFileSync('curl', ['-s', '-o', '/dev/null', ...extra, '-w', '%{size_download} %{time_total}', url], { encoding: 'utf8' });
  const [bytes, secs] = out.trim().split(' ').map(Number);
  return { bytes, ms: secs * 1000 };
}

function check(r) {
  if (r.bytes !== size) throw new Error(`read ${r.bytes} bytes, expected ${size}`);
  return gbps(r.bytes, r.ms);
}

const TICK_MS = 1000 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
/** CPU time (user + system, ms) used so far by a process. */
function cpuMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}

/** Run one read; return [wall GB/s, GB/s per second of server CPU]. */
async function measure(pid, read) {
  const c0 = cpuMs(pid);
  const r = await read();
  return [check(r), gbps(r.bytes, Math.max(cpuMs(pid) - c0, TICK_MS))];
}

// Reference: the simplest Node server that can send `size` bytes, in its own process.
async function startReference() {
  const src = `
    const { createServer } = require('node:http');
    const block = require('node:crypto').randomBytes(1 << 20);
    const size = ${size};
    const s = createServer(async (req, res) => {
      res.writeHead(200, { 'Content-Length': size });
      for (let sent = 0; sent < size; ) {
        const n = Math.min(block.length, size - sent);
        sent += n;
        if (!res.write(n === block.length ? block : block.subarray(0, n))) await new Promise((r) => res.once('drain', r));
      }
      res.end();
    });
    s.listen(0, '127.0.0.1', () => console.log(s.address().port));`;
  const child = spawn(process.execPath, ['-e', src], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((r) => child.stdout.once('data', (d) => r(Number(String(d).trim()))));
  return { child, url: `http://127.0.0.1:${port}/` };
}

const loadBefore = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const hub = await startFakehub();
const ref = await startReference();
try {
  const resolveUrl = `${hub.hubUrl}/datasets/bench/big/resolve/main/data/big.bin`;
  let t0 = performance.now();
  const head = execFileSync('curl', ['-sI', resolveUrl], { encoding: 'utf8' });
  const firstResolveMs = performance.now() - t0;
  const location = /^location: (\S+)/im.exec(head)?.[1];
  if (!location) throw new Error(`no redirect:\n${head}`);
  const rows = { 'curl, CDN URL': [], 'curl -L, via resolve': [], 'node http, CDN URL': [], 'reference: bare node:http, curl': [], 'reference: bare node:http, node http': [] };
  const hubPid = hub.child.pid;
  const refPid = ref.child.pid;
  for (let i = 0; i < runs; i++) {
    rows['curl, CDN URL'].push(await measure(hubPid, async () => curlRead(location)));
    rows['curl -L, via resolve'].push(await measure(hubPid, async () => curlRead(resolveUrl, ['-L'])));
    rows['node http, CDN URL'].push(await measure(hubPid, () => nodeRead(location)));
    rows['reference: bare node:http, curl'].push(await measure(refPid, async () => curlRead(ref.url)));
    rows['reference: bare node:http, node http'].push(await measure(refPid, () => nodeRead(ref.url)));
  }
  t0 = performance.now();
  let url = `${hub.hubUrl}/api/datasets/bench/many/tree/main?recursive=true`;
  let listed = 0;
  let pages = 0;
  while (url) {
    const res = await fetch(url);
    listed += (await res.json()).filter((e) => e.type === 'file').length;
    pages++;
    url = /<([^>]+)>;\s*rel="next"/.exec(res.headers.get('link') ?? '')?.[1];
  }
  const listMs = performance.now() - t0;
  if (listed !== fileCount) throw new Error(`listed ${listed} files, expected ${fileCount}`);

  console.log(`fakehub throughput: one ${(size / 2 ** 30).toFixed(2)} GiB LFS file over loopback, ${runs} runs (GB/s = 1e9 bytes/s)`);
  console.log(`  first resolve (hashes the file unless cached under ${tmpdir()}): ${(firstResolveMs / 1000).toFixed(2)} s`);
  console.log(`  load average before: ${loadBefore}, after: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
  console.log(`  ${''.padEnd(38)} wall-clock GB/s                         | per server CPU-second`);
  for (const [name, xs] of Object.entries(rows)) {
    const wall = xs.map((x) => x[0]);
    const cpu = xs.map((x) => x[1]);
    console.log(`  ${name.padEnd(38)} median ${fmt(median(wall))} (runs: ${wall.map(fmt).join(', ')}) | median ${fmt(median(cpu))}`);
  }
  console.log(`  tree listing: ${fileCount} files in ${pages} pages, ${(listMs / 1000).toFixed(2)} s (${Math.round(fileCount / (listMs / 1000))} entries/s, first listing hashes them)`);
} finally {
  hub.child.kill('SIGTERM');
  ref.child.kill('SIGTERM');
  rmSync(work, { recursive: true, force: true });
}

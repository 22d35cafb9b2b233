// Child of download-engine.mjs: downloads the given blobs concurrently with the built engine
// and prints one JSON line {ms, bytes, maxRssMiB} (its own process, so RSS is the engine's).
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { downloadBlob } = await import(join(root, 'packages', 'worker', 'dist', 'index.js'));
const { hubUrl, dir, files } = JSON.parse(process.argv[2]);

let peak = 0;
const sample = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
const t0 = performance.now();
await Promise.all(
  files.map((f) =>
    downloadBlob({
      url: f.url,
      hubOrigin: hubUrl,
      repo: f.repo,
      path: f.path,
      partialPath: join(dir, `${f.sha256}.incomplete`),
      finalPath: join(dir, f.sha256),
      expected: { size: f.size, sha256: f.sha256 },
    }),
  ),
);
const ms = performance.now() - t0;
clearInterval(sample);
const maxRssMiB = Math.max(peak, process.resourceUsage().maxRSS * 1024) / 2 ** 20;
const cpu = process.cpuUsage();
// Per-thread CPU (Linux): the main thread is the network loop; the rest are hash workers and libuv's pool.
const threads = [];
try {
  const { readdirSync, readFileSync } = await import('node:fs');
  for (const tid of readdirSync('/proc/self/task')) {
    const f = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1].split(' ');
    const ms = (Number(f[11]) + Number(f[12])) * 10;
    if (ms >= 50) threads.push({ main: Number(tid) === process.pid, ms });
  }
} catch {
  // not Linux
}
console.log(JSON.stringify({ ms, bytes: files.reduce((a, f) => a + f.size, 0), maxRssMiB, cpuUserMs: cpu.user / 1000, cpuSysMs: cpu.system / 1000, threads }));

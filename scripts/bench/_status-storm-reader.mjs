// Child of status-storm.mjs: `hfhpc status --json` in a loop, in process (what the CLI does
// minus node's start-up): open the database read-only, read the status, close, pause. Prints
// one JSON line on SIGTERM: reads done and their latency.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { openStore } = await import(join(root, 'packages', 'core', 'dist', 'index.js'));
const { readStatus } = await import(join(root, 'packages', 'ops', 'dist', 'index.js'));
const { dbPath, gapMs } = JSON.parse(process.argv[2]);

let stop = false;
process.on('SIGTERM', () => (stop = true));
process.stdout.write('{"ready":true}\n');
const took = [];
const split = { open: 0, read: 0, close: 0 };
while (!stop) {
  const t = performance.now();
  let c0 = process.cpuUsage();
  const store = openStore({ path: dbPath, readonly: true });
  let c1 = process.cpuUsage(c0); split.open += c1.user + c1.system; c0 = process.cpuUsage();
  try {
    JSON.stringify(readStatus({ store }));
  } finally {
    c1 = process.cpuUsage(c0); split.read += c1.user + c1.system; c0 = process.cpuUsage();
    store.close();
    c1 = process.cpuUsage(c0); split.close += c1.user + c1.system;
  }
  took.push(performance.now() - t);
  await sleep(gapMs);
}
took.sort((a, b) => a - b);
const at = (q) => Number((took[Math.min(took.length - 1, Math.floor(q * took.length))] ?? 0).toFixed(1));
const cpu = process.cpuUsage();
process.stdout.write(`${JSON.stringify({ reads: took.length, p50: at(0.5), p99: at(0.99), max: at(1), cpuS: (cpu.user + cpu.system) / 1e6, openCpuS: split.open / 1e6, readCpuS: split.read / 1e6, closeCpuS: split.close / 1e6 })}\n`);

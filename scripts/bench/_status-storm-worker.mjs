// Child of status-storm.mjs: one real `runWorker` (the built worker: claims, heartbeats,
// progress and done batches, placement) whose download step writes the blob locally instead of
// fetching it, so the database and the event loop are what is measured, not the network.
// Runs until SIGTERM (SIGUSR2 starts the measurement afresh), then prints one JSON line:
// event-loop delay (perf_hooks) and lost leases.
import { writeFile } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { runWorker } = await import(join(root, 'packages', 'worker', 'dist', 'index.js'));
const { createLogger } = await import(join(root, 'packages', 'core', 'dist', 'index.js'));
const { dbPath, cacheRoot, taskId, leaseTtlSeconds, concurrency } = JSON.parse(process.argv[2]);

const h = monitorEventLoopDelay({ resolution: 10 });
h.enable();
let lost = 0;
const lines = new Writable({
  write(chunk, _enc, cb) {
    const s = String(chunk);
    lost += (s.match(/lost the lease/g) ?? []).length;
    if (/error|fail/i.test(s)) process.stderr.write(s);
    cb();
  },
});
const logger = createLogger({ level: 'warn', stream: lines, color: false });
// The bench starts measuring after a warm-up (start-up, first claims): SIGUSR2 resets the histogram.
process.on('SIGUSR2', () => h.reset());
process.stdout.write('{"ready":true}\n');
const download = async (req) => {
  const size = req.expected.size;
  await writeFile(req.finalPath, Buffer.alloc(size));
  req.onProgress?.(size);
  return { bytesFetched: size, resumedFrom: 0 };
};
let exit = 0;
try {
  await runWorker({ dbPath, root: cacheRoot, hubUrl: 'http://127.0.0.1:9', taskId, concurrency, leaseTtlSeconds, progressIntervalSeconds: 3600, download, token: null, logger });
} catch (err) {
  exit = err?.exitCode ?? 70;
  if (exit !== 75) process.stderr.write(`worker ${taskId}: ${err?.stack ?? err}\n`);
}
h.disable();
const ms = (ns) => Number((ns / 1e6).toFixed(1));
const cpu = process.cpuUsage();
process.stdout.write(`${JSON.stringify({ taskId, exit, lost, p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max), cpuS: (cpu.user + cpu.system) / 1e6 })}\n`);

#!/usr/bin/env node
// hfhpc-fakehub: run fakehub as a process (the demo, benchmarks, tests of other packages).
// Writes the ready file atomically once both listeners are up; stops on SIGTERM/SIGINT.
import { renameSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { FakeHubConfigError } from './config/config-error.js';
import { parseSize } from './config/parse-size.js';
import { startFakeHub, type FakeHub, type FakeHubOptions } from './start-fake-hub.js';
import type { ResolveBudget } from './types.js';

const USAGE = `usage: hfhpc-fakehub --config repos.yaml [--port 0] [--cdn-port 0] [--host 127.0.0.1]
                     [--ready-file ready.json] [--page-size 1000] [--token hf_…] [--prehash] [--log-requests]
                     [--conn-rate 50MB] [--resolve-budget 40/10s] [--no-rate-limit-headers] [--stats-file stats.json]`;

/** `50MB`, `50MB/s`, `2MiB`, `1000000`: bytes per second. */
function rate(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const bytes = parseSize({ value: value.replace(/\/s$/i, '') });
  if (bytes === undefined || bytes < 1) throw new Error(`Expected --conn-rate to be bytes per second such as 50MB or 2MiB/s, got \`${value}\``);
  return bytes;
}

/** `40/10s`, `5000/5m`, `40/10` (seconds). */
function budget(value: string | undefined): ResolveBudget | undefined {
  if (value === undefined) return undefined;
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*(s|m|h)?\s*$/i.exec(value);
  const windowSeconds = m ? Number(m[2]) * { s: 1, m: 60, h: 3600 }[(m[3] ?? 's').toLowerCase() as 's' | 'm' | 'h'] : 0;
  if (!m || windowSeconds < 1) throw new Error(`Expected --resolve-budget to be <resolves>/<window> such as 40/10s or 5000/5m, got \`${value}\``);
  return { limit: Number(m[1]), windowSeconds };
}

/** Writes the counters atomically (temp + rename) so a reader never sees half a file. */
function writeStats(file: string, json: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${json}\n`);
  renameSync(tmp, file);
}

function int(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`Expected --${name} to be a non-negative integer, got \`${value}\``);
  return n;
}

function parseCommandLine() {
  return parseArgs({
    options: {
      config: { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      'cdn-port': { type: 'string' },
      'ready-file': { type: 'string' },
      'page-size': { type: 'string' },
      token: { type: 'string' },
      prehash: { type: 'boolean' },
      'conn-rate': { type: 'string' },
      'resolve-budget': { type: 'string' },
      'no-rate-limit-headers': { type: 'boolean' },
      'stats-file': { type: 'string' },
      'log-requests': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  }).values;
}
type Args = ReturnType<typeof parseCommandLine>;

/** The hub's options from the (already checked) arguments. */
function hubOptions(args: Args & { config: string }): FakeHubOptions {
  return {
    config: args.config,
    host: args.host,
    port: int('port', args.port, 0),
    cdnPort: int('cdn-port', args['cdn-port'], 0),
    pageSize: int('page-size', args['page-size'], 1000) || 1000,
    token: args.token,
    prehash: args.prehash,
    connRate: rate(args['conn-rate']),
    resolveBudget: budget(args['resolve-budget']),
    rateLimitHeaders: !args['no-rate-limit-headers'],
    recordRequests: false, // a long-running process must not grow a log nobody reads
    onResponse: args['log-requests']
      ? (r) => process.stderr.write(`${new Date(r.at).toISOString()} ${r.host} ${r.method} ${r.path} ${r.status} ${r.bytesSent}${r.faults.length ? ` [${r.faults.join(',')}]` : ''}\n`)
      : undefined,
  };
}

/** Writes the stats file once a second while anything changed; `flush()` writes it now. */
function statsWriter(hub: FakeHub, statsFile: string | undefined): { flush: () => void; stop: () => void } {
  let lastStats = '';
  const flush = () => {
    const now = JSON.stringify(hub.stats());
    if (statsFile && now !== lastStats) {
      writeStats(statsFile, now);
      lastStats = now;
    }
  };
  const timer = statsFile ? setInterval(flush, 1000) : undefined;
  timer?.unref();
  return { flush, stop: () => clearInterval(timer) };
}

function untilSignalled(): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      process.stderr.write(`hfhpc-fakehub: ${signal}, stopping\n`);
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}

async function main(): Promise<number> {
  let options: FakeHubOptions;
  let args: Args;
  try {
    args = parseCommandLine();
    if (args.help) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    if (!args.config) throw new Error('--config is required');
    options = hubOptions({ ...args, config: args.config });
  } catch (err) {
    process.stderr.write(`hfhpc-fakehub: ${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  let hub: FakeHub;
  try {
    hub = await startFakeHub(options);
  } catch (err) {
    process.stderr.write(`hfhpc-fakehub: ${(err as Error).message}\n`);
    return err instanceof FakeHubConfigError ? 2 : 1;
  }
  const ready = { hubUrl: hub.hubUrl, cdnUrl: hub.cdnUrl, repos: hub.repos() };
  if (args['ready-file']) {
    const tmp = `${args['ready-file']}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(ready, null, 2)}\n`);
    renameSync(tmp, args['ready-file']);
  }
  process.stdout.write(`${JSON.stringify(ready)}\n`);
  // Rewritten once a second while anything changed, and once more when stopping.
  const stats = statsWriter(hub, args['stats-file']);
  stats.flush();
  await untilSignalled();
  stats.stop();
  await hub.stop();
  stats.flush();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`hfhpc-fakehub: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(70);
  },
);

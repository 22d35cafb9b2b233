#!/usr/bin/env node
// hfhpc-fakehub: run fakehub as a process (the demo, benchmarks, tests of other packages).
// Writes the ready file atomically once both listeners are up; stops on SIGTERM/SIGINT.
import { renameSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { FakeHubConfigError } from './config/config-error.js';
import { startFakeHub } from './start-fake-hub.js';

const USAGE = `usage: hfhpc-fakehub --config repos.yaml [--port 0] [--cdn-port 0] [--host 127.0.0.1]
                     [--ready-file ready.json] [--page-size 1000] [--token hf_…] [--prehash] [--log-requests]`;

function int(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`Expected --${name} to be a non-negative integer, got \`${value}\``);
  return n;
}

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
      options: {
        config: { type: 'string' },
        host: { type: 'string' },
        port: { type: 'string' },
        'cdn-port': { type: 'string' },
        'ready-file': { type: 'string' },
        'page-size': { type: 'string' },
        token: { type: 'string' },
        prehash: { type: 'boolean' },
        'log-requests': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }).values;
    if (args.help) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    if (!args.config) throw new Error('--config is required');
    int('port', args.port, 0);
    int('cdn-port', args['cdn-port'], 0);
    int('page-size', args['page-size'], 1000);
  } catch (err) {
    process.stderr.write(`hfhpc-fakehub: ${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  let hub;
  try {
    hub = await startFakeHub({
      config: args.config,
      host: args.host,
      port: int('port', args.port, 0),
      cdnPort: int('cdn-port', args['cdn-port'], 0),
      pageSize: int('page-size', args['page-size'], 1000) || 1000,
      token: args.token,
      prehash: args.prehash,
      recordRequests: false, // a long-running process must not grow a log nobody reads
      onResponse: args['log-requests']
        ? (r) => process.stderr.write(`${new Date(r.at).toISOString()} ${r.host} ${r.method} ${r.path} ${r.status} ${r.bytesSent}${r.faults.length ? ` [${r.faults.join(',')}]` : ''}\n`)
        : undefined,
    });
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
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      process.stderr.write(`hfhpc-fakehub: ${signal}, stopping\n`);
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  await hub.stop();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`hfhpc-fakehub: ${(err as Error)?.stack ?? err}\n`);
    process.exit(70);
  },
);

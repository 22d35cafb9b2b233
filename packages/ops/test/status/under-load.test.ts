// The whole loop with real processes: fakehub, `hfhpc plan`, 8 `hfhpc work` tasks writing
// while status is read, then verify finding a corrupted and a missing blob, work fetching
// them again, and verify passing.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readdirSync, rmSync, unlinkSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { openStore, type Store } from '@hfhpc/core';
import { startFakeHub, type FakeHub } from '@hfhpc/fakehub';
import { readStatus, type StatusReport } from '../../src/status/index.js';
import { runCli, startCli, type CliResult } from './cli.js';

const REPO = 'bigcode/load-test';
let hub: FakeHub;
let dir: string;
let root: string;
let common: string[];

beforeAll(async () => {
  hub = await startFakeHub({
    config: { repos: [{ id: REPO, files: [{ path: 'README.md', text: '# load\n' }], generate: { count: 63, prefix: 'data/', size: '128KiB', lfs: true, ext: '.parquet', seed: 7 } }] },
    hashCacheDir: false,
  });
  // Slow enough that the 8 tasks are still writing while status is read.
  hub.faults.bandwidth({ host: 'cdn', bytesPerSecond: 512 * 1024 });
  dir = mkdtempSync(path.join(tmpdir(), 'hfhpc-load-'));
  root = path.join(dir, 'root');
  writeFileSync(path.join(dir, 'm.yaml'), `allow_prefixes: [bigcode/]\nroot: ./root\ndatasets:\n  - repo: ${REPO}\n`);
  common = ['--root', root, '--hub-url', hub.hubUrl, '--log-level', 'warn'];
});

afterAll(async () => {
  await hub.stop();
  rmSync(dir, { recursive: true, force: true });
});

const contractKeys = (r: StatusReport): void => {
  expect(Object.keys(r.totals).sort()).toEqual(['bytes', 'bytes_done', 'files', 'files_done', 'files_failed']);
  for (const d of r.datasets) for (const k of ['repo', 'revision', 'commit', 'files', 'files_done', 'files_failed', 'bytes', 'bytes_done', 'state']) expect(d).toHaveProperty(k);
  for (const s of r.shards) for (const k of ['index', 'state', 'bytes', 'bytes_done', 'owner', 'lease_expires_at', 'attempts', 'last_error']) expect(s).toHaveProperty(k);
  expect(['pending', 'running', 'done', 'failed']).toContain(r.state);
};

describe('status, verify and work together', () => {
  it('status reads consistent, growing figures while 8 workers write', async () => {
    const plan = await runCli(['plan', '--manifest', path.join(dir, 'm.yaml'), '--shards', '8', '--json', ...common]);
    expect(plan.code).toBe(0);
    const workers = Array.from({ length: 8 }, (_, i) =>
      startCli(['work', '--task-id', String(i), '--concurrency', '2', '--lease-ttl', '30', '--progress-interval', '1', ...common]),
    );
    const reader: Store = openStore({ path: path.join(root, '_hfhpc', 'state.sqlite'), readonly: true });
    const samples: StatusReport[] = [];
    const cliDuring: Promise<CliResult>[] = [];
    let exited = 0;
    workers.forEach((w) => void w.done.then(() => exited++));
    try {
      while (exited < workers.length) {
        samples.push(readStatus({ store: reader }));
        if (samples.length % 10 === 3 && cliDuring.length < 2) cliDuring.push(runCli(['status', '--json', '--no-slurm', ...common]));
        await sleep(100);
      }
    } finally {
      reader.close();
    }
    const results = await Promise.all(workers.map((w) => w.done));
    expect(results.map((r) => r.code)).toEqual(Array(8).fill(0));

    // A look taken mid-run: partial progress, live leases with owners.
    const mid = samples.filter((s) => s.totals.bytes_done > 0 && s.totals.bytes_done < s.totals.bytes && s.shard_counts.running > 0);
    expect(mid.length).toBeGreaterThan(0);
    expect(mid.some((s) => s.shards.some((x) => x.state === 'running' && x.owner && x.lease_expires_at))).toBe(true);
    for (let i = 1; i < samples.length; i++) {
      expect(samples[i]!.totals.bytes_done).toBeGreaterThanOrEqual(samples[i - 1]!.totals.bytes_done);
      expect(samples[i]!.totals.files_done).toBeGreaterThanOrEqual(samples[i - 1]!.totals.files_done);
    }
    // The CLI, run while the tasks wrote, printed the contract object and exited 0.
    expect(cliDuring.length).toBeGreaterThan(0);
    for (const r of await Promise.all(cliDuring)) {
      expect(r.code).toBe(0);
      contractKeys(JSON.parse(r.stdout) as StatusReport);
    }

    const final = await runCli(['status', '--json', '--no-slurm', ...common]);
    expect(final.code).toBe(0);
    const f = JSON.parse(final.stdout) as StatusReport;
    contractKeys(f);
    expect(f).toMatchObject({ state: 'done', totals: { files: 64, files_done: 64, files_failed: 0 }, failures: [] });
    expect(f.totals.bytes_done).toBe(f.totals.bytes);
    expect(f.shards.every((s) => s.state === 'done' && s.owner === null)).toBe(true);
  });

  it('verify passes the download, then finds a corrupted and a missing blob (exit 1); work re-fetches them; verify passes', async () => {
    hub.faults.clear();
    const ok = await runCli(['verify', '--json', ...common]);
    expect(ok.code).toBe(0);
    // The workers recorded each blob they downloaded and hashed: nothing is read again.
    expect(JSON.parse(ok.stdout)).toMatchObject({ files_checked: 64, files_ok: 64, files_skipped: 64, bytes_hashed: 0, bad: [] });

    const blobs = path.join(root, 'datasets--bigcode--load-test', 'blobs');
    const [first, second] = readdirSync(blobs).filter((b) => b.length === 64).sort();
    const fd = openSync(path.join(blobs, first!), 'r+');
    writeSync(fd, Buffer.from([0x42]), 0, 1, 1000);
    closeSync(fd);
    unlinkSync(path.join(blobs, second!));

    const bad = await runCli(['verify', '--json', '--force', ...common]);
    expect(bad.code).toBe(1);
    const report = JSON.parse(bad.stdout) as { bad: { blob: string; problem: string }[]; files_ok: number };
    expect(report.bad.map((b) => [b.blob, b.problem]).sort()).toEqual([[first, 'hash-mismatch'], [second, 'missing']].sort());
    expect(report.files_ok).toBe(62);
    expect(readdirSync(blobs)).not.toContain(first);

    const st = JSON.parse((await runCli(['status', '--json', '--no-slurm', ...common])).stdout) as StatusReport;
    expect(st.totals.files_done).toBe(62);
    expect(st.state).toBe('pending');

    hub.resetRequests();
    const again = await runCli(['work', '--task-id', '0', ...common]);
    expect(again.code).toBe(0);
    // Exactly the two bad files were fetched again, nothing else.
    expect(hub.requests.filter((q) => q.host === 'cdn').length).toBe(2);
    const good = await runCli(['verify', '--json', ...common]);
    expect(good.code).toBe(0);
    expect(JSON.parse(good.stdout)).toMatchObject({ files_checked: 64, files_ok: 64, files_skipped: 64, bytes_hashed: 0, bad: [] });
  });
});

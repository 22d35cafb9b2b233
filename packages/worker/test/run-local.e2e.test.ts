// `hfhpc run --local`: the plan, then its rendered download.sbatch run by the LocalScheduler
// (bash per array task, at most -j at once, each running `hfhpc work`), through the real CLI.
import { existsSync, writeFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { listShards, openStore } from '@hfhpc/core';
import type { FakeHub, FakeHubConfig } from '@hfhpc/fakehub';
import { cdnRequestsWithAuth, checkCache, contentRequests, runCli, until, useSharedHub, within, workspace, type PlannedFile, type Workspace } from './helpers/e2e.js';

const config: FakeHubConfig = {
  repos: [
    {
      id: 'bigcode/many-small',
      files: [{ path: 'README.md', text: '# many small files\n' }, { path: 'data/one-lfs.bin', size: '1MiB', lfs: true }],
      generate: { count: 2000, prefix: 'data/part/', size: [100, 2000], lfs: false, perDir: 250 },
    },
    { id: 'bigcode/hostile', files: [{ path: 'ok.txt', text: 'fine\n' }] },
    { id: 'bigcode/slow', files: [{ path: 'a.bin', size: '32MiB', lfs: true }, { path: 'b.bin', size: '32MiB', lfs: true }] },
    { id: 'bigcode/broken', files: [{ path: 'ok.txt', text: 'fine\n' }, { path: 'bad.bin', size: '64KiB', lfs: true }] },
  ],
};

let hub: FakeHub;
let ws: Workspace | undefined;
useSharedHub(config, { started: (h) => (hub = h), workspace: () => ws });

function manifest(w: Workspace, repo: string): string {
  const path = join(w.dir, 'manifest.yaml');
  writeFileSync(path, `allow_prefixes: [bigcode/]\nroot: ${w.root}\ndatasets:\n  - repo: ${repo}\n`);
  return path;
}

function planned(repo: string): PlannedFile[] {
  return hub.files(repo).map((path) => {
    const info = hub.fileInfoSync(repo, path);
    return { repo, path, size: info.size, blob: info.blob, lfs: Boolean(info.lfs) };
  });
}

describe('hfhpc run --local', () => {
  it('8 workers over 2,000 small files: every file fetched exactly once; a second run makes no content request', async () => {
    ws = workspace();
    const m = manifest(ws, 'bigcode/many-small');
    const args = ['run', '--manifest', m, '--local', '--hub-url', hub.hubUrl, '--progress-interval', '1'];
    const first = await runCli([...args, '-j', '8']).done;
    expect({ code: first.code, stderr: first.code === 0 ? '' : first.stderr }).toEqual({ code: 0, stderr: '' });
    expect(first.stdout).toMatch(/plan 1: complete/);
    expect(first.stdout).toMatch(/bigcode\/many-small@main \(\w+\): done, files 2002\/2002/);
    // Progress lines of every task carry plan, task and host.
    for (let t = 0; t < 8; t++) expect(first.stderr).toMatch(new RegExp(`\\[plan 1 task ${t} [^\\]]+\\] (Progress: |task ${t} done)`));
    const counts = contentRequests(hub);
    const resolves = hub.requests.filter((r) => r.endpoint === 'resolve');
    expect(new Set(resolves.map((r) => r.filePath)).size).toBe(2002);
    expect(resolves.length).toBe(2002); // one resolve per file, no HEAD, no retry
    expect([...counts.values()].every((n) => n === 1 || n === 2)).toBe(true); // LFS: resolve + CDN
    expect(await checkCache({ root: ws.root, hub, complete: planned('bigcode/many-small') })).toEqual([]);
    expect(cdnRequestsWithAuth(hub)).toBe(0);

    hub.resetRequests();
    const second = await runCli([...args, '-j', '2']).done;
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/plan 2: complete/);
    expect(contentRequests(hub).size).toBe(0);
  }, 240_000); // 32 array tasks (8 at once) on a loaded machine

  it('--force: every blob on disk is hashed again; only the corrupt one (right size, wrong bytes) is fetched again', async () => {
    ws = workspace();
    const m = manifest(ws, 'bigcode/slow');
    const args = ['run', '--manifest', m, '--local', '-j', '1', '--hub-url', hub.hubUrl];
    expect((await runCli(args).done).code).toBe(0);
    const [a, b] = planned('bigcode/slow');
    const blobA = join(ws.root, 'datasets--bigcode--slow', 'blobs', a.blob);
    writeFileSync(blobA, Buffer.alloc(a.size, 0x5a)); // bit rot of the same length
    hub.resetRequests();
    const plain = await runCli(args).done;
    expect(plain.code).toBe(0);
    expect(contentRequests(hub).size).toBe(0); // recorded done: trusted, not read, not fetched
    const forced = await runCli([...args, '--force']).done;
    expect({ code: forced.code, stderr: forced.code === 0 ? '' : forced.stderr }).toEqual({ code: 0, stderr: '' });
    expect([...contentRequests(hub).keys()].map((k) => k.split('/').pop())).toEqual([a.path.split('/').pop()]);
    expect(await checkCache({ root: ws.root, hub, complete: [a, b] })).toEqual([]);
  });

  it('a hostile path in the Hub listing: the plan is refused with exit 2 and nothing is downloaded', async () => {
    ws = workspace();
    hub.faults.hostileTreeEntry({ repo: 'bigcode/hostile', path: '../../etc/passwd' });
    const res = await runCli(['run', '--manifest', manifest(ws, 'bigcode/hostile'), '--local', '-j', '2', '--hub-url', hub.hubUrl]).done;
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/unsafe path "\.\.\/\.\.\/etc\/passwd"/);
    expect(contentRequests(hub).size).toBe(0);
    const entries = existsSync(ws.root) ? await readdir(ws.root) : [];
    expect(entries.filter((e) => e.startsWith('datasets--'))).toEqual([]);
  });

  it('refuses to run without --local, before planning', async () => {
    ws = workspace();
    const res = await runCli(['run', '--manifest', manifest(ws, 'bigcode/hostile'), '--hub-url', hub.hubUrl]).done;
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/needs --local.*plan --manifest F --submit/);
    expect(hub.requests).toHaveLength(0);
  });

  it('SIGTERM to hfhpc run reaches every worker: leases released, exit 75', async () => {
    ws = workspace();
    hub.faults.bandwidth({ host: 'cdn', bytesPerSecond: 4 * 1024 * 1024 });
    const run = runCli(['run', '--manifest', manifest(ws, 'bigcode/slow'), '--local', '-j', '2', '--hub-url', hub.hubUrl, '--shards', '2']);
    await until(() => hub.requests.filter((r) => r.host === 'cdn' && r.bytesSent > 0).length >= 2, 30_000, 'both workers downloading');
    run.child.kill('SIGTERM');
    const res = await within(run.done, 15_000, 'hfhpc run after SIGTERM');
    expect(res.code).toBe(75);
    expect(res.stdout).toMatch(/plan 1: incomplete/);
    expect(res.stderr.match(/released the lease on shard \d/g)).toHaveLength(2);
    const store = openStore({ path: join(ws.root, '_hfhpc', 'state.sqlite') });
    try {
      expect(listShards(store, 1).map((s) => [s.state, s.owner])).toEqual([['pending', null], ['pending', null]]);
    } finally {
      store.close();
    }
  });

  it('Ctrl-C (SIGINT) mid-run: each batch script gets SIGTERM and forwards it, tasks not yet started never start, exit 75; a second run finishes', async () => {
    ws = workspace();
    const m = manifest(ws, 'bigcode/slow');
    const slow = hub.faults.bandwidth({ host: 'cdn', bytesPerSecond: 4 * 1024 * 1024 });
    // 2 shards, 1 task at once: task 1 is still pending when the signal comes.
    const args = ['run', '--manifest', m, '--local', '-j', '1', '--hub-url', hub.hubUrl, '--shards', '2'];
    const run = runCli(args);
    await until(() => hub.requests.some((r) => r.host === 'cdn' && r.bytesSent > 0), 30_000, 'the first task downloading');
    run.child.kill('SIGINT');
    const res = await within(run.done, 20_000, 'hfhpc run after SIGINT');
    expect(res.code).toBe(75);
    expect(res.stderr).toMatch(/SIGINT: stopping the local job/);
    // The template's own lines: the worker exited 75 after a TERM the script forwarded; nothing requeued.
    expect(res.stderr).toMatch(/hfhpc: task local-1_0: worker exited 75/);
    expect(res.stderr).toMatch(/hfhpc: task local-1_0: stopped by TERM .*not requeued/);
    expect(res.stderr).not.toMatch(/task local-1_1 (starts|on )/);
    expect(res.stderr).toMatch(/task local-1_0 exited 75/);
    expect(res.stdout).toMatch(/plan 1: incomplete/);
    const store = openStore({ path: join(ws.root, '_hfhpc', 'state.sqlite') });
    try {
      expect(listShards(store, 1).map((s) => s.owner)).toEqual([null, null]);
    } finally {
      store.close();
    }
    slow.clear();
    const again = await runCli(args).done;
    expect({ code: again.code, stderr: again.code === 0 ? '' : again.stderr }).toEqual({ code: 0, stderr: '' });
    expect(again.stdout).toMatch(/plan 2: complete/);
    expect(await checkCache({ root: ws.root, hub, complete: planned('bigcode/slow') })).toEqual([]);
  });

  it('a file that cannot be fetched intact: its task exits 1, reported per task, and run --local exits 1', async () => {
    ws = workspace();
    hub.faults.corruptBytes({ host: 'cdn', path: 'bad.bin', count: 1000 });
    const res = await runCli(['run', '--manifest', manifest(ws, 'bigcode/broken'), '--local', '-j', '2', '--hub-url', hub.hubUrl, '--shards', '2']).done;
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/task local-1_\d exited 1/);
    expect(res.stderr).toMatch(/hfhpc: task local-1_\d: worker exited 1/);
    expect(res.stdout).toMatch(/plan 1: (incomplete|failed)/);
    expect(res.stdout).toMatch(/files 1\/2/);
  });
});

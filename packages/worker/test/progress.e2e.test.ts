// What a person watching a task or a local run sees: the first Progress line soon after the
// start, a live bar on a terminal (plain lines otherwise), and the right totals after a
// re-plan. Real CLI processes against fakehub, real SQLite files.
import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from '@jest/globals';
import type { FakeHub, FakeHubConfig } from '@hfhpc/fakehub';
import { CLI, planFromHub, runCli, runWork, useSharedHub, workspace, type Workspace } from './helpers/e2e.js';

const config: FakeHubConfig = {
  repos: [
    { id: 'bigcode/slow', files: [{ path: 'a.bin', size: '4MiB', lfs: true }, { path: 'b.bin', size: '4MiB', lfs: true }] },
    {
      id: 'bigcode/moving',
      files: [{ path: 'README.md', text: '# moving\n' }, { path: 'data/x.bin', size: '2MiB', lfs: true }, { path: 'data/y.bin', size: '1MiB', lfs: true }],
    },
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

const progressLines = (text: string): string[] => text.split('\n').filter((l) => l.includes(' Progress: '));
const SCRIPT = ['/usr/bin/script', '/bin/script'].find((p) => existsSync(p));

describe('progress', () => {
  it('a task logs its first Progress line soon after the start, not only after the interval', async () => {
    ws = workspace();
    await planFromHub({ hub, ws, repos: ['bigcode/slow'] });
    // 8 MiB at 1 MiB/s: the download outlasts the first report, and the interval is 30 s.
    hub.faults.bandwidth({ host: 'cdn', bytesPerSecond: 1024 * 1024 });
    const res = await runWork(ws, hub, ['--task-id', '0', '--concurrency', '1', '--progress-interval', '30']).done;
    expect(res.code).toBe(0);
    const lines = res.stderr.split('\n');
    const first = lines.findIndex((l) => l.includes(' Progress: '));
    const done = lines.findIndex((l) => /task 0 done/.test(l));
    expect(progressLines(res.stderr).length).toBeGreaterThanOrEqual(2);
    // The first one comes while files are still downloading, not as the final line.
    expect(lines[first]).toMatch(/files 0\/2|files 1\/2/);
    expect(first).toBeLessThan(done - 1);
  });

  it('the final Progress line after a re-plan counts the bytes of files already in place', async () => {
    ws = workspace();
    const m = manifest(ws, 'bigcode/moving');
    const args = ['run', '--manifest', m, '--local', '-j', '1', '--hub-url', hub.hubUrl];
    expect((await runCli(args).done).code).toBe(0);
    // The branch moves; the files do not: the new plan links the blobs already on disk.
    hub.moveBranch('bigcode/moving', 'main', { files: [{ path: 'NEW.md', text: 'new\n' }] });
    const second = await runCli(args).done;
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/plan 2: complete/);
    // The array's later tasks find every shard taken and report nothing claimed; the last line
    // of a task that worked is the one that counts.
    const last = progressLines(second.stderr).filter((l) => !/no shard \(0 claimed\)/.test(l)).at(-1)!;
    expect(last).toMatch(/files 4\/4, bytes ([\d.]+ \w+)\/\1 \(100\.0%\)/);
  });

  it('run --local without a terminal: the workers\' plain Progress lines, no bar', async () => {
    ws = workspace();
    const m = manifest(ws, 'bigcode/slow');
    const res = await runCli(['run', '--manifest', m, '--local', '-j', '1', '--hub-url', hub.hubUrl, '--progress-interval', '1']).done;
    expect(res.code).toBe(0);
    expect(progressLines(res.stderr).length).toBeGreaterThanOrEqual(1);
    expect(res.stderr).not.toContain('run [');
    expect(res.stdout).toMatch(/plan 1: complete/);
  });

  (SCRIPT ? it : it.skip)('run --local on a terminal: a live bar with the plan\'s bytes and files, worker lines above it', async () => {
    ws = workspace();
    const m = manifest(ws, 'bigcode/slow');
    hub.faults.bandwidth({ host: 'cdn', bytesPerSecond: 4 * 1024 * 1024 });
    const cmd = [process.execPath, CLI, 'run', '--manifest', m, '--local', '-j', '1', '--hub-url', hub.hubUrl, '--progress-interval', '1'].map((a) => `'${a}'`).join(' ');
    // A pseudo-terminal from util-linux script; the test's fakehub answers from this process.
    const { stdout } = await promisify(execFile)(SCRIPT!, ['-qfec', `stty cols 120; ${cmd}`, '/dev/null'], { maxBuffer: 16 * 1024 * 1024 });
    const screen = stdout.replace(/\r/g, '\n');
    expect(screen).toMatch(/run \[[█░]+\] \d+% \| [\d.]+ \w+ \/ 8 MiB \| files \d\/2/);
    expect(screen).toMatch(/run \[█+\] 100% \| 8 MiB \/ 8 MiB \| files 2\/2/);
    expect(screen).not.toMatch(/ETA (NULL|INF|\w*NF|\w*LL)/);
    // The workers' Progress lines are replaced by the bar; their other lines still show, to the last.
    expect(screen).not.toContain(' Progress: ');
    expect(screen).toMatch(/task 0 done/);
    expect(screen).toMatch(/plan 1: complete/);
  });
});

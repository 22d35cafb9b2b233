// Bad input and a failing environment end with their documented exit codes (2 and 1) and one
// clear line, never as "internal error … this is a bug" (70): real CLI processes, fakehub,
// real SQLite files.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { setup, type TestEnv } from './plan-helpers.js';

const BIN = fileURLToPath(new URL('../../cli/dist/bin.js', import.meta.url));

let t: TestEnv;
beforeEach(async () => {
  t = await setup();
});
afterEach(async () => {
  await t.close();
});

const env = () => ({ ...t.env, PATH: process.env.PATH });
const hfhpc = (args: string[]) => execa(process.execPath, [BIN, ...args], { reject: false, extendEnv: false, cwd: t.dir, env: env() });

describe('exit codes (child processes)', () => {
  it('work refuses an empty --task-id, a NaN --plan-id and 1e20 seconds of lease or progress interval (exit 2)', async () => {
    const m = await t.manifest({ datasets: [{ repo: 'org/twin' }] });
    expect((await hfhpc(['plan', '--manifest', m])).exitCode).toBe(0);
    for (const args of [['--task-id', ''], ['--plan-id', 'NaN'], ['--lease-ttl', '1e20'], ['--progress-interval', '1e20'], ['--task-id', '-1'], ['--concurrency', '0']]) {
      const r = await hfhpc(['work', '--root', t.root, ...(args[0] === '--task-id' ? [] : ['--task-id', '0']), ...args]);
      expect({ args, code: r.exitCode }).toEqual({ args, code: 2 });
      expect(r.stderr).toContain(`Expected ${args[0]} to be`);
      expect(r.stderr).not.toContain('internal error');
    }
    expect(t.hub.requests.filter((q) => q.endpoint === 'resolve')).toHaveLength(0);
  });

  it('a state database deleted while a task works ends with exit 1 and a line about the state database being moved or deleted, not an internal error', async () => {
    const m = await t.manifest({ datasets: [{ repo: 'org/many', include: ['big/**'] }] });
    expect((await hfhpc(['plan', '--manifest', m])).exitCode).toBe(0);
    // Hold the download long enough for the database to vanish under the task.
    t.hub.faults.slowFirstByte({ delayMs: 4000 });
    const work = hfhpc(['work', '--root', t.root, '--task-id', '0', '--lease-ttl', '2']);
    for (let i = 0; i < 200 && !t.hub.requests.some((q) => q.endpoint === 'resolve'); i++) await new Promise((r) => setTimeout(r, 50));
    rmSync(t.dbPath);
    const r = await work;
    expect(r.stderr).not.toContain('internal error');
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/hfhpc: state database: .*moved or deleted while in use/);
  });

  it('cleanup on a read-only root: exit 1, one line naming the root (needs a read-only bind mount)', async () => {
    const m = await t.manifest({ datasets: [{ repo: 'org/twin' }] });
    expect((await hfhpc(['plan', '--manifest', m])).exitCode).toBe(0);
    mkdirSync(t.root, { recursive: true });
    const bind = spawnSync('mount', ['--bind', t.root, t.root]);
    const ro = bind.status === 0 ? spawnSync('mount', ['-o', 'remount,ro,bind', t.root]) : bind;
    if (ro.status !== 0) {
      if (bind.status === 0) spawnSync('umount', [t.root]);
      // Without privileges to mount there is no read-only root to try here; the mapping of
      // EROFS/SQLITE_READONLY is also covered by core's errors test.
      console.warn(`skipped: cannot make a read-only bind mount (${(ro.stderr ?? '').toString().trim()})`);
      return;
    }
    try {
      const r = await hfhpc(['cleanup', '--manifest', m]);
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toContain(`cleanup cannot change the download root ${t.root}: it is a read-only file system`);
      expect(r.stderr).not.toContain('internal error');
      const dry = await hfhpc(['cleanup', '--manifest', m, '--dry-run']);
      expect(dry.exitCode).toBe(0);
    } finally {
      spawnSync('umount', [t.root]);
    }
    expect(existsSync(t.dbPath)).toBe(true);
  });
});

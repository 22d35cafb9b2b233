import { afterEach, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { LOCK_HOLDER_PATH, probeSqliteLocking } from '../../src/store/probe-sqlite-locking.js';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('sqlite lock probe', () => {
  it('the holder is a built module started by path: while it holds BEGIN IMMEDIATE this process gets SQLITE_BUSY, then the lock once it commits', async () => {
    expect(LOCK_HOLDER_PATH).toMatch(/[/\\]dist[/\\]store[/\\]lock-holder\.js$/);
    expect(existsSync(LOCK_HOLDER_PATH)).toBe(true);
    dir = mkdtempSync(path.join(tmpdir(), 'hfhpc-lock-holder-'));
    const file = path.join(dir, 'scratch.sqlite');
    const db = new Database(file, { timeout: 0 });
    try {
      db.exec('CREATE TABLE probe (at INTEGER)');
      const child = spawn(process.execPath, [LOCK_HOLDER_PATH, file], { stdio: ['pipe', 'pipe', 'inherit'] });
      const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
      const first = await new Promise<string>((resolve) => createInterface({ input: child.stdout }).once('line', resolve));
      expect(first).toBe('locked');
      let busy: unknown;
      try {
        db.exec('BEGIN IMMEDIATE');
      } catch (err) {
        busy = err;
      }
      expect(busy).toMatchObject({ code: 'SQLITE_BUSY' });
      child.stdin.end();
      expect(await exited).toBe(0);
      db.exec('BEGIN IMMEDIATE');
      db.exec('COMMIT');
      // The holder's own write was committed, not rolled back.
      expect(db.prepare('SELECT count(*) AS n FROM probe').get()).toEqual({ n: 1 });
    } finally {
      db.close();
    }
  });

  it('the holder without a database path exits 2 with a usage line', async () => {
    const child = spawn(process.execPath, [LOCK_HOLDER_PATH], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(2);
    expect(stderr).toMatch(/^usage: lock-holder\.js <scratch database>/);
  });

  it('probeSqliteLocking passes on a local filesystem and leaves no scratch file behind', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'hfhpc-lock-probe-'));
    await expect(probeSqliteLocking({ dir })).resolves.toEqual({ ok: true });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('probeSqliteLocking reports a folder it cannot create the scratch database in', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'hfhpc-lock-probe-'));
    const r = await probeSqliteLocking({ dir: path.join(dir, 'missing') });
    expect(r).toMatchObject({ ok: false, stage: 'create', message: expect.stringContaining('cannot create a scratch database in') });
  });
});

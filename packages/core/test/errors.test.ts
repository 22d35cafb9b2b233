import { describe, expect, it } from '@jest/globals';
import { DiskError, ExitCode, InternalError, ManifestError, StateError, UsageError, toHfhpcError } from '../src/index.js';

describe('errors', () => {
  it('carry the contract exit codes and a one-line user string with the hint', () => {
    const e = new UsageError('unknown option --shardz', { hint: 'see hfhpc plan --help' });
    expect(e.exitCode).toBe(ExitCode.BAD_INPUT);
    expect(e.code).toBe('E_USAGE');
    expect(e.toUserString()).toBe('unknown option --shardz (see hfhpc plan --help)');
    expect(e.name).toBe('UsageError');
  });

  it('ManifestError lists every problem at once', () => {
    const e = new ManifestError('m.yaml', ['datasets[0].repo: missing', 'root: not a string']);
    expect(e.problems).toHaveLength(2);
    expect(e.message).toContain('m.yaml: 2 problems');
    expect(e.exitCode).toBe(2);
  });

  it('wraps unknown throws as internal errors', () => {
    const e = toHfhpcError(new TypeError('boom'));
    expect(e).toBeInstanceOf(InternalError);
    expect(e.exitCode).toBe(ExitCode.INTERNAL);
    expect(toHfhpcError(e)).toBe(e);
  });

  it('file-system and state-database refusals are the environment (exit 1), not a bug', async () => {
    const { mkdtempSync, rmSync, unlinkSync } = await import('node:fs');
    const { readFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    // eslint-disable-next-line @typescript-eslint/unbound-method -- node:path's join does not use `this`
    const { join } = await import('node:path');
    const { default: Database } = await import('better-sqlite3');
    const missing = await readFile('/nonexistent/hfhpc/file').catch((e: unknown) => e);
    const disk = toHfhpcError(missing);
    expect(disk).toBeInstanceOf(DiskError);
    expect(disk.exitCode).toBe(ExitCode.FAILED);
    expect(disk.toUserString()).toContain('/nonexistent/hfhpc/file');

    // A database deleted while open: SQLite refuses the next write (SQLITE_READONLY_DBMOVED).
    const dir = mkdtempSync(join(tmpdir(), 'hfhpc-err-'));
    const db = new Database(join(dir, 'x.sqlite'));
    db.exec('CREATE TABLE t (a)');
    unlinkSync(join(dir, 'x.sqlite'));
    let thrown: unknown;
    try {
      db.prepare('INSERT INTO t VALUES (1)').run();
    } catch (e) {
      thrown = e;
    }
    db.close();
    rmSync(dir, { recursive: true, force: true });
    const state = toHfhpcError(thrown);
    expect(state).toBeInstanceOf(StateError);
    expect(state.exitCode).toBe(ExitCode.FAILED);
    expect(state.toUserString()).toContain('moved or deleted');
  });
});

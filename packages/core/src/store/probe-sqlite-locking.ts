// doctor's check that SQLite locking works between two processes on the database's filesystem:
// a scratch database, never the state database, so it can run while workers are busy.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';

export type LockProbeResult =
  | { ok: true }
  | { ok: false; stage: 'create' | 'child' | 'not-enforced' | 'not-released'; message: string };

/**
 * The lock holder's module, started by path with node. Under jest this file runs from its
 * TypeScript source, which node cannot run: it then starts the built sibling in dist/, like every
 * child process a test starts (tests build first).
 */
export const LOCK_HOLDER_PATH = fileURLToPath(
  new URL(import.meta.url.endsWith('.ts') ? '../../dist/store/lock-holder.js' : './lock-holder.js', import.meta.url),
);

export interface LockProbeParams {
  /** Folder on the filesystem to test (the state database's folder). */
  dir: string;
  /** How long to wait for the holder to take its lock, ms. Default 15000. */
  timeoutMs?: number;
}

/**
 * Two processes, one scratch database: while a child holds the write lock (BEGIN IMMEDIATE),
 * this process must be refused the same lock (SQLITE_BUSY), and must get it once the child
 * commits. On filesystems where POSIX locks are silently ignored (some NFS and Lustre mounts)
 * the first step succeeds when it must not: two writers would corrupt the state database.
 */
export async function probeSqliteLocking(params: LockProbeParams): Promise<LockProbeResult> {
  const { dir, timeoutMs = 15_000 } = params;
  const file = path.join(dir, `.hfhpc-doctor-lock-${process.pid}-${randomBytes(4).toString('hex')}.sqlite`);
  const cleanup = (): void => {
    for (const f of [file, `${file}-journal`]) rmSync(f, { force: true });
  };
  let db: Database.Database;
  try {
    db = new Database(file, { timeout: 0 });
    db.pragma('journal_mode = DELETE');
    db.exec('CREATE TABLE probe (at INTEGER)');
  } catch (err) {
    cleanup();
    return { ok: false, stage: 'create', message: `cannot create a scratch database in ${dir}: ${(err as Error).message}` };
  }
  const child = spawn(process.execPath, [LOCK_HOLDER_PATH, file], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  try {
    const locked = await waitForLine(child.stdout, 'locked', timeoutMs);
    if (!locked) {
      return { ok: false, stage: 'child', message: `the lock-holding process did not take the lock: ${stderr.trim().split('\n').pop() ?? 'timed out'}` };
    }
    try {
      db.exec('BEGIN IMMEDIATE');
      db.exec('ROLLBACK');
      return { ok: false, stage: 'not-enforced', message: 'a second process got the write lock while another held it: locks are not enforced on this filesystem' };
    } catch (err) {
      if (!String((err as { code?: string }).code).startsWith('SQLITE_BUSY')) {
        return { ok: false, stage: 'not-enforced', message: `taking the lock failed with ${(err as Error).message} instead of SQLITE_BUSY` };
      }
    }
    child.stdin.end();
    await exited;
    try {
      db.exec('BEGIN IMMEDIATE');
      db.exec('COMMIT');
    } catch (err) {
      return { ok: false, stage: 'not-released', message: `the lock was not released after its holder committed: ${(err as Error).message}` };
    }
    return { ok: true };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    db.close();
    cleanup();
  }
}

function waitForLine(stream: NodeJS.ReadableStream, want: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: stream });
    const timer = setTimeout(() => finish(false), timeoutMs);
    let settled = false;
    const finish = (v: boolean): void => {
      if (settled) return;
      settled = true; // before close(): closing emits 'close', which must not answer false
      clearTimeout(timer);
      resolve(v);
      rl.close();
    };
    rl.on('line', (line) => line.trim() === want && finish(true));
    rl.on('close', () => finish(false));
  });
}

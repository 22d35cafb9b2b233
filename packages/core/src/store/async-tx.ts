// Transactions for the event-loop thread that moves bytes (the worker): SQLite's own busy wait
// is kept to a few milliseconds (the connection's short busy_timeout), and every longer wait
// for a lock is a timer, so sockets keep draining and heartbeats keep their schedule while
// other processes hold the lock.
import { setTimeout as sleepAsync } from 'node:timers/promises';
import { StateError } from '../errors.js';
import { busyDelay, isBusyError } from './busy-retry.js';
import type { Db } from './open-store.js';

export interface AsyncTxOptions {
  /** Give up (StateError) after this long since the first attempt. */
  maxTotalMs: number;
  /** First backoff ceiling before BEGIN is tried again. */
  baseMs: number;
  /** Largest backoff ceiling before BEGIN is tried again. */
  capMs: number;
  /**
   * Largest backoff ceiling between COMMIT attempts. The writer then holds SQLite's PENDING
   * lock, which lets readers finish but admits no new ones, so it waits briefly.
   */
  commitCapMs: number;
  now: () => number;
  random: () => number;
  sleep: (ms: number) => Promise<unknown>;
  /** Named in errors, e.g. the database path. */
  what: string;
}

export const defaultAsyncTxOptions = (what: string): AsyncTxOptions => ({
  maxTotalMs: 120_000,
  baseMs: 2,
  capMs: 100,
  commitCapMs: 20,
  now: Date.now,
  random: Math.random,
  sleep: (ms) => sleepAsync(ms),
  what,
});

export interface AsyncTxHooks {
  /** Run first inside a write transaction (the journal-mode check). */
  check?: (db: Db) => void;
  /** Set while a transaction is open across an await (COMMIT being retried). */
  onHold?: (holding: boolean) => void;
}

/**
 * `BEGIN [IMMEDIATE]`, `fn`, `COMMIT`. A busy BEGIN (or a busy statement inside `fn`) rolls
 * back and tries again after a jittered timer; a busy COMMIT is retried without running `fn`
 * again. `fn` runs synchronously and must only touch the database.
 */
export async function runAsyncTransaction<T>(params: {
  db: Db;
  mode: 'immediate' | 'deferred';
  fn: (db: Db) => T;
  options: AsyncTxOptions;
  hooks?: AsyncTxHooks;
}): Promise<T> {
  const { db, mode, fn, options: o, hooks = {} } = params;
  const started = o.now();
  const giveUp = (attempts: number, err: unknown): StateError => {
    const waitedMs = o.now() - started;
    return new StateError(`state database ${o.what} stayed locked for ${Math.round(waitedMs / 1000)} s (${attempts} attempts)`, {
      cause: err,
      hint: 'another process holds the database lock too long: look for hung hfhpc processes, or run `hfhpc doctor` to check that file locking works on this filesystem',
      context: { attempts, waitedMs },
    });
  };
  const rollback = (): void => {
    if (db.inTransaction) db.exec('ROLLBACK');
  };
  const tx: OpenTx = { db, o, hooks, started, rollback, giveUp };
  let attempts = 0;
  for (let attempt = 0; ; attempt++) {
    attempts++;
    let result: T;
    try {
      db.exec(mode === 'immediate' ? 'BEGIN IMMEDIATE' : 'BEGIN');
      try {
        hooks.check?.(db);
        result = fn(db);
      } catch (err) {
        rollback();
        throw err;
      }
    } catch (err) {
      if (!isBusyError(err)) throw err;
      const delayMs = busyDelay({ attempt, baseMs: o.baseMs, capMs: o.capMs, random: o.random });
      if (o.now() - started + delayMs > o.maxTotalMs) throw giveUp(attempts, err);
      await o.sleep(delayMs);
      continue;
    }
    if (await commit(tx, attempts)) return result;
  }
}

interface OpenTx {
  db: Db;
  o: AsyncTxOptions;
  hooks: AsyncTxHooks;
  started: number;
  rollback: () => void;
  giveUp: (attempts: number, err: unknown) => StateError;
}

/** COMMIT, retried on a busy lock without running `fn` again; false when SQLite rolled back itself. */
async function commit(tx: OpenTx, attempts: number): Promise<boolean> {
  const { db, o, hooks, started, rollback, giveUp } = tx;
  for (let c = 0; ; c++) {
    try {
      db.exec('COMMIT');
      return true;
    } catch (err) {
      if (!isBusyError(err)) {
        rollback();
        throw err;
      }
      if (!db.inTransaction) return false; // SQLite rolled it back itself: run it again
      const delayMs = busyDelay({ attempt: c, baseMs: 1, capMs: o.commitCapMs, random: o.random });
      if (o.now() - started + delayMs > o.maxTotalMs) {
        rollback();
        throw giveUp(attempts, err);
      }
      hooks.onHold?.(true);
      try {
        await o.sleep(delayMs);
      } finally {
        hooks.onHold?.(false);
      }
    }
  }
}

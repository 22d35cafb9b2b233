// SQLite answers SQLITE_BUSY / SQLITE_LOCKED when the busy_timeout ran out or when its busy
// handler cannot help (a lock upgrade that would deadlock). Those transactions are rolled back
// and are safe to run again, so they are retried here with full-jitter exponential backoff,
// bounded in total time. better-sqlite3 is synchronous, so the wait is synchronous too.
import { StateError } from '../errors.js';

export interface BusyRetryOptions {
  /** Give up (StateError) once this much time went by since the first attempt. Default 120000. */
  maxTotalMs?: number;
  /** First backoff ceiling in ms. Default 5. */
  baseMs?: number;
  /** Largest backoff ceiling in ms. Default 1000. */
  capMs?: number;
  /** Clock for the total bound. Default Date.now. */
  now?: () => number;
  /** Synchronous sleep. Default sleepSync. */
  sleep?: (ms: number) => void;
  /** Source of jitter in [0, 1). Default Math.random. */
  random?: () => number;
  /** Named in the error message, e.g. the database path. */
  what?: string;
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/** Block the thread for `ms` milliseconds without spinning. */
export function sleepSync(ms: number): void {
  if (ms > 0) Atomics.wait(sleepCell, 0, 0, ms);
}

/** True for the SQLite result codes that mean "someone else holds the lock; try again". */
export function isBusyError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

/** Delay before retry number `attempt` (0-based): uniform in [0, min(cap, base * 2^attempt)). */
export function busyDelay(params: { attempt: number; baseMs?: number; capMs?: number; random?: () => number }): number {
  const { attempt, baseMs = 5, capMs = 1000, random = Math.random } = params;
  return Math.floor(random() * Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30)));
}

/** Run `fn`, retrying it while it throws a busy error, until `maxTotalMs` is spent. */
export function withBusyRetry<T>(fn: () => T, options: BusyRetryOptions = {}): T {
  const { maxTotalMs = 120_000, baseMs = 5, capMs = 1000, now = Date.now, sleep = sleepSync, random = Math.random } = options;
  const started = now();
  for (let attempt = 0; ; attempt++) {
    try {
      return fn();
    } catch (err) {
      if (!isBusyError(err)) throw err;
      const delayMs = busyDelay({ attempt, baseMs, capMs, random });
      const waitedMs = now() - started;
      if (waitedMs + delayMs > maxTotalMs) {
        throw new StateError(`state database${options.what ? ` ${options.what}` : ''} stayed locked for ${Math.round(waitedMs / 1000)} s (${attempt + 1} attempts)`, {
          cause: err,
          hint: 'another process holds the database lock too long: look for hung hfhpc processes, or run `hfhpc doctor` to check that file locking works on this filesystem',
          context: { attempts: attempt + 1, waitedMs },
        });
      }
      sleep(delayMs);
    }
  }
}

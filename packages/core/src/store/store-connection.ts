// The open connection behind a Store and its two ways to run a transaction: `run` waits for the
// lock synchronously (the CLIs), `runAsync` waits on timers (the worker, whose thread moves the
// bytes). Both find a journal another process switched to WAL, switch it back and run again.
import Database from 'better-sqlite3';
import { InternalError, StateError } from '../errors.js';
import { runAsyncTransaction, type AsyncTxOptions } from './async-tx.js';
import { isBusyError, withBusyRetry, type BusyRetryOptions } from './busy-retry.js';
import { insertEvent } from './events.js';
import { JournalSwitchedError, assertDeleteJournal, journalModeError, switchToDeleteJournal } from './journal-mode.js';
import type { Db } from './open-store.js';
import { TxQueue } from './tx-queue.js';

export type TxMode = 'immediate' | 'deferred';
type Mark = (d: Db) => void;

export interface ConnectionSettings {
  path: string;
  readonly: boolean;
  busyTimeoutMs: number;
  busyRetryMs: number;
  now: () => number;
  retryOptions: BusyRetryOptions;
  asyncOptions: AsyncTxOptions;
}

/** The connection settings every open applies after the journal mode (see open-store.ts). */
export function applyConnectionPragmas(db: Db, p: { readonly: boolean }): void {
  if (!p.readonly) db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  // Statement journals in memory: with the counter triggers every insert into `files` keeps
  // one, and a temporary file for each would put file I/O under every insert of a plan.
  db.pragma('temp_store = MEMORY');
}

// One transaction wrapper reused for every call; the work is passed as its argument.
const wrap = (d: Db) => d.transaction((fn: (x: Db) => unknown) => fn(d));

const withMark = <T>(fn: (d: Db) => T, mark?: Mark) => (mark ? (d: Db) => (mark(d), fn(d)) : fn);

export class StoreConnection {
  private tx: ReturnType<typeof wrap>;
  private closed = false;
  // Set while an async transaction waits, open, for its COMMIT: a synchronous call then would
  // silently become part of it.
  private holding = false;
  private readonly queue = new TxQueue();

  constructor(
    public db: Db,
    private readonly s: ConnectionSettings,
  ) {
    this.tx = wrap(db);
  }

  run<T>(fn: (d: Db) => T, mode: TxMode): T {
    if (this.holding) {
      throw new InternalError(`synchronous store call on ${this.s.path} while an asynchronous transaction is open`, {
        hint: 'this is a bug in hfhpc (use writeAsync/readAsync in the worker); please report it',
      });
    }
    if (this.db.inTransaction) return this.tx(fn) as T; // nested: a savepoint; the outer call retries
    const attempt = (mark?: Mark): T => {
      // A write first checks that nobody switched the journal to WAL since the last one.
      const body = mode === 'immediate' ? checkedWrite(withMark(fn, mark)) : fn;
      return withBusyRetry(() => this.tx[mode](body) as T, this.s.retryOptions);
    };
    try {
      return attempt();
    } catch (err) {
      if (!(err instanceof JournalSwitchedError)) throw err;
      this.repair(err);
      return attempt(this.journalResetEvent(err.mode));
    }
  }

  runAsync<T>(fn: (d: Db) => T, mode: TxMode, urgent = false): Promise<T> {
    const attempt = (mark?: Mark): Promise<T> =>
      runAsyncTransaction({
        db: this.db,
        mode,
        fn: withMark(fn, mark),
        options: this.s.asyncOptions,
        hooks: { check: mode === 'immediate' ? assertDeleteJournal : undefined, onHold: (h) => (this.holding = h) },
      });
    const job = async (): Promise<T> => {
      this.assertOpen();
      try {
        return await attempt();
      } catch (err) {
        if (!(err instanceof JournalSwitchedError)) throw err;
        await this.repairAsync(err);
        return attempt(this.journalResetEvent(err.mode));
      }
    };
    return this.queue.enqueue(job, urgent);
  }

  close(): void {
    this.closed = true;
    if (this.db.open) this.db.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new StateError(`state database ${this.s.path} is closed`, { hint: 'this is a bug in hfhpc; please report it' });
  }

  // Left in the event log, in the same transaction as the write that found it.
  private journalResetEvent(was: string): Mark {
    return (d) => {
      insertEvent(d, this.s.now(), { kind: 'journal-reset', detail: { was, now: 'delete', pid: process.pid } });
    };
  }

  // Switch a WAL database back and run the write again; a task that cannot, stops.
  private repair(err: JournalSwitchedError): void {
    let mode = err.mode;
    try {
      mode = withBusyRetry(() => switchToDeleteJournal(this.db), { ...this.s.retryOptions, maxTotalMs: Math.min(this.s.busyRetryMs, 10_000) });
    } catch (switchErr) {
      throw journalModeError(this.s.path, mode, switchErr);
    }
    if (mode !== 'delete') throw journalModeError(this.s.path, mode);
  }

  // Every task of the array may find the WAL at once, and each connection that did keeps the
  // WAL open, which stops the others from switching back: a task that fails lets go of its
  // connection for a jittered while, so one of them finds itself alone and switches.
  private async repairAsync(err: JournalSwitchedError): Promise<void> {
    const o = this.s.asyncOptions;
    const started = o.now();
    let fresh = false;
    for (let attempt = 0; ; attempt++) {
      let mode = err.mode;
      let cause: unknown;
      try {
        if (fresh) this.reconnect();
        fresh = false;
        mode = switchToDeleteJournal(this.db);
      } catch (e) {
        if (!isBusyError(e)) throw e;
        cause = e;
      }
      if (mode === 'delete') return;
      const delayMs = Math.max(1, Math.floor(o.random() * Math.min(500, 10 * 2 ** Math.min(attempt, 10))));
      if (o.now() - started + delayMs > Math.min(o.maxTotalMs, 15_000)) throw journalModeError(this.s.path, mode, cause);
      this.db.close();
      fresh = true;
      await o.sleep(delayMs);
      this.assertOpen();
    }
  }

  // A fresh connection to the same file (schema known): used to let go of a WAL another
  // process imposed, which an open connection keeps and which blocks switching back.
  // Its settings may meet a busy lock (temp_store reads the schema): the caller tries again.
  private reconnect(): void {
    const { path, readonly, busyTimeoutMs } = this.s;
    if (this.db.open) this.db.close();
    this.db = new Database(path, { readonly, fileMustExist: true, timeout: busyTimeoutMs });
    this.tx = wrap(this.db);
    this.db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
    applyConnectionPragmas(this.db, { readonly });
  }
}

const checkedWrite = <T>(fn: (d: Db) => T) => (d: Db): T => {
  assertDeleteJournal(d);
  return fn(d);
};

// Open (and create or migrate) the state database with the settings that keep it correct on
// Lustre, GPFS and NFS: rollback journal (never WAL: WAL needs shared memory across nodes),
// synchronous=FULL, foreign keys, a generous busy_timeout, BEGIN IMMEDIATE for every write.
// Two ways to run a transaction: `write`/`read` wait for the lock synchronously (the CLIs),
// `writeAsync`/`readAsync` wait on timers (the worker, whose thread moves the bytes).
import { chmodSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { HfhpcError, InternalError, StateError } from '../errors.js';
import { defaultAsyncTxOptions, runAsyncTransaction, type AsyncTxOptions } from './async-tx.js';
import { isBusyError, withBusyRetry, type BusyRetryOptions } from './busy-retry.js';
import { insertEvent } from './events.js';
import { JournalSwitchedError, assertDeleteJournal, journalModeError, switchToDeleteJournal } from './journal-mode.js';
import { migrate, readSchemaVersion } from './migrate.js';
import { LATEST_SCHEMA_VERSION } from './migrations.js';

export type Db = Database.Database;

export interface Store {
  readonly db: Db;
  readonly path: string;
  readonly readonly: boolean;
  /** The clock every store function uses (ms since the epoch). */
  readonly now: () => number;
  /**
   * Run `fn` in one `BEGIN IMMEDIATE … COMMIT` transaction; on SQLITE_BUSY/LOCKED the whole
   * transaction is rolled back and run again (jittered backoff, bounded), so `fn` must only
   * touch the database. Nested calls become savepoints of the outer transaction.
   */
  write<T>(fn: (db: Db) => T): T;
  /** Run `fn` in a short deferred (read) transaction, retried like `write`. */
  read<T>(fn: (db: Db) => T): T;
  /**
   * `write` for the thread that moves bytes: never waits for a lock longer than the
   * connection's busy_timeout; BEGIN is retried after jittered timers, a busy COMMIT is
   * retried without running `fn` again. Calls are queued, one transaction at a time; any store
   * function called inside `fn` becomes part of it (e.g. `writeAsync(() => heartbeat(store, …))`).
   * `urgent` (heartbeats) runs before the calls still queued, after the one under way.
   */
  writeAsync<T>(fn: (db: Db) => T, options?: { urgent?: boolean }): Promise<T>;
  /** `read` for the thread that moves bytes, retried on timers like `writeAsync`. */
  readAsync<T>(fn: (db: Db) => T): Promise<T>;
  close(): void;
}

export interface OpenStoreOptions {
  /** Database file; its folder is created when missing (mode from the umask). */
  path: string;
  /** SQLite busy_timeout in ms: how long one statement waits for a lock. Default 60000. */
  busyTimeoutMs?: number;
  /** Total time a transaction is retried after the busy timeout gave up. Default 120000. */
  busyRetryMs?: number;
  /** Open read-only: no migrations, no writes; the file must exist. Default false. */
  readonly?: boolean;
  /** Clock used for every timestamp and lease expiry. Default Date.now. */
  now?: () => number;
  /** Create the file (and folder) when missing; otherwise StateError. Default true. */
  create?: boolean;
  /** Test seams for the busy retry (sleep, random). */
  retry?: Pick<BusyRetryOptions, 'sleep' | 'random' | 'baseMs' | 'capMs'>;
  /** Backoff of writeAsync/readAsync (test seams and tuning); maxTotalMs defaults to busyRetryMs. */
  asyncRetry?: Partial<Omit<AsyncTxOptions, 'what'>>;
}

/** Open the state database, creating and migrating it as needed. */
export function openStore(options: OpenStoreOptions): Store {
  const { path, busyTimeoutMs = 60_000, busyRetryMs = 120_000, readonly = false, now = Date.now, create = true } = options;
  const existed = existsSync(path);
  if (!existed && (readonly || !create)) {
    throw new StateError(`no state database at ${path}`, {
      hint: 'run `hfhpc plan` first, or pass --db / HFHPC_DB pointing at the plan\'s database',
      context: { path },
    });
  }
  if (!existed) mkdirSync(dirname(path), { recursive: true });

  let db: Db;
  try {
    db = new Database(path, { readonly, fileMustExist: existed || readonly, timeout: busyTimeoutMs });
  } catch (err) {
    throw new StateError(`cannot open state database ${path}: ${(err as Error).message}`, {
      cause: err,
      hint: 'check that the path is a writable file on a filesystem with working POSIX locks (`hfhpc doctor`)',
      context: { path },
    });
  }
  const retryOptions: BusyRetryOptions = { ...options.retry, maxTotalMs: busyRetryMs, what: path };
  try {
    configure(db, { path, busyTimeoutMs, readonly, retryOptions });
    if (!existed) restrictMode(path);
  } catch (err) {
    db.close();
    if (err instanceof HfhpcError) throw err;
    throw new StateError(`cannot use state database ${path}: ${(err as Error).message}`, {
      cause: err,
      hint: 'the file is damaged or not an hfhpc state database; pass --db / HFHPC_DB pointing at the right file',
      context: { path },
    });
  }

  // One transaction wrapper reused for every call; the work is passed as its argument. A write
  // first checks that nobody switched the journal to WAL since the last one.
  const wrap = (d: Db) => d.transaction((fn: (x: Db) => unknown) => fn(d));
  let tx = wrap(db);
  let closed = false;
  // A fresh connection to the same file (schema known): used to let go of a WAL another
  // process imposed, which an open connection keeps and which blocks switching back.
  // Its settings may meet a busy lock (temp_store reads the schema): the caller tries again.
  const reconnect = (): void => {
    if (db.open) db.close();
    db = new Database(path, { readonly, fileMustExist: true, timeout: busyTimeoutMs });
    tx = wrap(db);
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
    if (!readonly) db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma('temp_store = MEMORY');
  };
  const checkedWrite = (fn: (d: Db) => unknown) => (d: Db) => {
    assertDeleteJournal(d);
    return fn(d);
  };
  // Set while an async transaction waits, open, for its COMMIT: a synchronous call then would
  // silently become part of it.
  let holding = false;
  const run = <T>(fn: (d: Db) => T, mode: 'immediate' | 'deferred'): T => {
    if (holding) {
      throw new InternalError(`synchronous store call on ${path} while an asynchronous transaction is open`, {
        hint: 'this is a bug in hfhpc (use writeAsync/readAsync in the worker); please report it',
      });
    }
    if (db.inTransaction) return tx(fn) as T; // nested: a savepoint; the outer call retries
    return withJournalRepair((mark) => {
      const body = mode === 'immediate' ? checkedWrite(mark ? (d) => (mark(d), fn(d)) : fn) : fn;
      return withBusyRetry(() => tx[mode](body) as T, retryOptions);
    });
  };
  // Switch a WAL database back and run the write again; a task that cannot, stops.
  const repair = (err: JournalSwitchedError): void => {
    let mode = err.mode;
    try {
      mode = withBusyRetry(() => switchToDeleteJournal(db), { ...retryOptions, maxTotalMs: Math.min(busyRetryMs, 10_000) });
    } catch (switchErr) {
      throw journalModeError(path, mode, switchErr);
    }
    if (mode !== 'delete') throw journalModeError(path, mode);
  };
  const withJournalRepair = <T>(attempt: (mark?: (d: Db) => void) => T): T => {
    try {
      return attempt();
    } catch (err) {
      if (!(err instanceof JournalSwitchedError)) throw err;
      repair(err);
      return attempt(journalResetEvent(err.mode));
    }
  };
  // Left in the event log, in the same transaction as the write that found it.
  const journalResetEvent = (was: string) => (d: Db) => {
    insertEvent(d, now(), { kind: 'journal-reset', detail: { was, now: 'delete', pid: process.pid } });
  };
  const asyncOptions: AsyncTxOptions = { ...defaultAsyncTxOptions(path), maxTotalMs: busyRetryMs, ...options.asyncRetry };
  // One async transaction at a time; urgent ones (heartbeats) go before those still waiting.
  const waiting: { urgent: boolean; run: () => Promise<void> }[] = [];
  let pumping = false;
  const pump = async (): Promise<void> => {
    if (pumping) return;
    pumping = true;
    try {
      for (let next = waiting.shift(); next; next = waiting.shift()) await next.run();
    } finally {
      pumping = false;
    }
  };
  const enqueue = <T>(job: () => Promise<T>, urgent: boolean): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const entry = { urgent, run: () => job().then(resolve, reject) };
      const at = urgent ? waiting.findIndex((w) => !w.urgent) : -1;
      if (at >= 0) waiting.splice(at, 0, entry);
      else waiting.push(entry);
      void pump();
    });
  const runAsync = <T>(fn: (d: Db) => T, mode: 'immediate' | 'deferred', urgent = false): Promise<T> => {
    const attempt = (mark?: (d: Db) => void): Promise<T> =>
      runAsyncTransaction({
        db,
        mode,
        fn: mark ? (d) => (mark(d), fn(d)) : fn,
        options: asyncOptions,
        hooks: { check: mode === 'immediate' ? assertDeleteJournal : undefined, onHold: (h) => (holding = h) },
      });
    const job = async (): Promise<T> => {
      if (closed) throw new StateError(`state database ${path} is closed`, { hint: 'this is a bug in hfhpc; please report it' });
      try {
        return await attempt();
      } catch (err) {
        if (!(err instanceof JournalSwitchedError)) throw err;
        await repairAsync(err);
        return attempt(journalResetEvent(err.mode));
      }
    };
    return enqueue(job, urgent);
  };
  // Every task of the array may find the WAL at once, and each connection that did keeps the
  // WAL open, which stops the others from switching back: a task that fails lets go of its
  // connection for a jittered while, so one of them finds itself alone and switches.
  const repairAsync = async (err: JournalSwitchedError): Promise<void> => {
    const started = asyncOptions.now();
    let fresh = false;
    for (let attempt = 0; ; attempt++) {
      let mode = err.mode;
      let cause: unknown;
      try {
        if (fresh) reconnect();
        fresh = false;
        mode = switchToDeleteJournal(db);
      } catch (e) {
        if (!isBusyError(e)) throw e;
        cause = e;
      }
      if (mode === 'delete') return;
      const delayMs = Math.max(1, Math.floor(asyncOptions.random() * Math.min(500, 10 * 2 ** Math.min(attempt, 10))));
      if (asyncOptions.now() - started + delayMs > Math.min(asyncOptions.maxTotalMs, 15_000)) throw journalModeError(path, mode, cause);
      db.close();
      fresh = true;
      await asyncOptions.sleep(delayMs);
      if (closed) throw new StateError(`state database ${path} is closed`, { hint: 'this is a bug in hfhpc; please report it' });
    }
  };
  return {
    get db() {
      return db;
    },
    path,
    readonly,
    now,
    write(fn) {
      if (readonly) throw new StateError(`state database ${path} was opened read-only`, { hint: 'this is a bug in hfhpc; please report it' });
      return run(fn, 'immediate');
    },
    read(fn) {
      return run(fn, 'deferred');
    },
    writeAsync(fn, opts) {
      if (readonly) return Promise.reject(new StateError(`state database ${path} was opened read-only`, { hint: 'this is a bug in hfhpc; please report it' }));
      return runAsync(fn, 'immediate', opts?.urgent);
    },
    readAsync(fn) {
      return runAsync(fn, 'deferred');
    },
    close() {
      closed = true;
      if (db.open) db.close();
    },
  };
}

function configure(db: Db, p: { path: string; busyTimeoutMs: number; readonly: boolean; retryOptions: BusyRetryOptions }): void {
  db.pragma(`busy_timeout = ${Math.max(0, Math.floor(p.busyTimeoutMs))}`);
  const mode = withBusyRetry(
    () => String(db.pragma(p.readonly ? 'journal_mode' : 'journal_mode = DELETE', { simple: true })).toLowerCase(),
    p.retryOptions,
  );
  if (mode !== 'delete') {
    throw new StateError(`state database ${p.path} is in journal mode ${mode}, not delete`, {
      hint: 'WAL does not work across cluster nodes; stop every process using the database and run any hfhpc write command once to switch it back',
      context: { path: p.path, journalMode: mode },
    });
  }
  if (!p.readonly) db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  // Statement journals in memory: with the counter triggers every insert into `files` keeps
  // one, and a temporary file for each would put file I/O under every insert of a plan.
  db.pragma('temp_store = MEMORY');

  const version = p.readonly
    ? withBusyRetry(() => db.transaction(() => readSchemaVersion(db)).deferred(), p.retryOptions) // one shared-lock section
    : withBusyRetry(() => db.transaction(() => migrate(db, p.path)).immediate(), p.retryOptions);
  if (version !== null && version > LATEST_SCHEMA_VERSION) {
    throw new StateError(`state database ${p.path} has schema version ${version}, newer than this hfhpc understands (${LATEST_SCHEMA_VERSION})`, {
      hint: 'upgrade hfhpc to the version that wrote this database',
      context: { path: p.path, version, supported: LATEST_SCHEMA_VERSION },
    });
  }
  if (version !== LATEST_SCHEMA_VERSION) {
    throw new StateError(`state database ${p.path} has schema version ${version ?? 'none'}, this hfhpc expects ${LATEST_SCHEMA_VERSION}`, {
      hint: version === null ? 'the file is not an hfhpc state database' : 'run any hfhpc write command (plan, work) once to migrate it',
      context: { path: p.path, version },
    });
  }
}

/** The database is never world-accessible; group bits follow the umask. */
function restrictMode(path: string): void {
  const mode = statSync(path).mode & 0o777;
  if (mode & 0o007) chmodSync(path, mode & ~0o007);
}

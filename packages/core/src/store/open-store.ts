// Open (and create or migrate) the state database with the settings that keep it correct on
// Lustre, GPFS and NFS: rollback journal (never WAL: WAL needs shared memory across nodes),
// synchronous=FULL, foreign keys, a generous busy_timeout, BEGIN IMMEDIATE for every write.
// Two ways to run a transaction: `write`/`read` wait for the lock synchronously (the CLIs),
// `writeAsync`/`readAsync` wait on timers (the worker, whose thread moves the bytes); both are
// in `store-connection.ts`.
import { chmodSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { HfhpcError, StateError } from '../errors.js';
import { defaultAsyncTxOptions, type AsyncTxOptions } from './async-tx.js';
import { withBusyRetry, type BusyRetryOptions } from './busy-retry.js';
import { migrate, readSchemaVersion } from './migrate.js';
import { LATEST_SCHEMA_VERSION } from './migrations.js';
import { StoreConnection, applyConnectionPragmas } from './store-connection.js';

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
  const retryOptions: BusyRetryOptions = { ...options.retry, maxTotalMs: busyRetryMs, what: path };
  const db = openDatabase({ path, busyTimeoutMs, readonly, create, retryOptions });
  const asyncOptions: AsyncTxOptions = { ...defaultAsyncTxOptions(path), maxTotalMs: busyRetryMs, ...options.asyncRetry };
  const conn = new StoreConnection(db, { path, readonly, busyTimeoutMs, busyRetryMs, now, retryOptions, asyncOptions });
  const readOnlyError = (): StateError => new StateError(`state database ${path} was opened read-only`, { hint: 'this is a bug in hfhpc; please report it' });
  return {
    get db() {
      return conn.db;
    },
    path,
    readonly,
    now,
    write(fn) {
      if (readonly) throw readOnlyError();
      return conn.run(fn, 'immediate');
    },
    read(fn) {
      return conn.run(fn, 'deferred');
    },
    writeAsync(fn, opts) {
      if (readonly) return Promise.reject(readOnlyError());
      return conn.runAsync(fn, 'immediate', opts?.urgent);
    },
    readAsync(fn) {
      return conn.runAsync(fn, 'deferred');
    },
    close() {
      conn.close();
    },
  };
}

interface OpenDatabaseParams {
  path: string;
  busyTimeoutMs: number;
  readonly: boolean;
  create: boolean;
  retryOptions: BusyRetryOptions;
}

/** The connection, configured and migrated; a file that is missing, damaged or foreign is a StateError. */
function openDatabase(p: OpenDatabaseParams): Db {
  const { path, busyTimeoutMs, readonly } = p;
  const existed = existsSync(path);
  if (!existed && (readonly || !p.create)) {
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
  try {
    configure(db, p);
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
  return db;
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
  applyConnectionPragmas(db, p);

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

// Open (and create or migrate) the state database with the settings that keep it correct on
// Lustre, GPFS and NFS: rollback journal (never WAL: WAL needs shared memory across nodes),
// synchronous=FULL, foreign keys, a generous busy_timeout, BEGIN IMMEDIATE for every write.
import { chmodSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { HfhpcError, StateError } from '../errors.js';
import { withBusyRetry, type BusyRetryOptions } from './busy-retry.js';
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

  // One transaction wrapper reused for every call; the work is passed as its argument.
  const tx = db.transaction((fn: (d: Db) => unknown) => fn(db));
  const run = <T>(fn: (d: Db) => T, mode: 'immediate' | 'deferred'): T => {
    if (db.inTransaction) return tx(fn) as T; // nested: a savepoint; the outer call retries
    return withBusyRetry(() => tx[mode](fn) as T, retryOptions);
  };
  return {
    db,
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
    close() {
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

  const version = p.readonly
    ? withBusyRetry(() => readSchemaVersion(db), p.retryOptions)
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

// The state database must stay in the rollback journal (DELETE): WAL needs shared memory that
// cluster nodes do not share. Another process can switch a live database to WAL at any time
// (a stray `sqlite3` session, a tool that "optimises" it); every open and every write checks.
import { StateError } from '../errors.js';
import type { Db } from './open-store.js';

/** The connection's current journal mode, lower case. Cheap: a look at the header already read. */
export function journalMode(db: Db): string {
  return String(db.pragma('journal_mode', { simple: true })).toLowerCase();
}

/** Thrown inside a write transaction that found the journal switched; the caller switches back. */
export class JournalSwitchedError extends Error {
  constructor(readonly mode: string) {
    super(`journal mode is ${mode}`);
  }
}

/** Inside a write transaction: refuse to write in any mode but DELETE (the caller rolls back). */
export function assertDeleteJournal(db: Db): void {
  const mode = journalMode(db);
  if (mode !== 'delete') throw new JournalSwitchedError(mode);
}

/**
 * Outside any transaction: switch back to DELETE. Returns the mode now in force; it stays
 * `wal` while another connection still has the database open in WAL mode.
 */
export function switchToDeleteJournal(db: Db): string {
  return String(db.pragma('journal_mode = DELETE', { simple: true })).toLowerCase();
}

/** The error a task stops with when it cannot switch the database back. */
export function journalModeError(path: string, mode: string, cause?: unknown): StateError {
  return new StateError(`state database ${path} was switched to journal mode ${mode} by another process and cannot be switched back to delete`, {
    cause,
    hint: 'WAL does not work across cluster nodes: stop the process that switched it (a sqlite3 shell or another tool), then requeue this task; any hfhpc write command switches it back',
    context: { path, journalMode: mode },
  });
}

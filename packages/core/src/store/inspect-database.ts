// doctor's look at the state database: opened read-only and raw (no migration, no version
// refusal, no journal-mode switch), so it can report on a database the store would refuse to
// open. The connection stays inside this module; callers get answers, never the handle.
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { newestPlanBytesLeft } from './newest-plan.js';
import type { Db } from './open-store.js';
import { hasTable, planDefaultsOf, type PlanDefaults } from './plan-defaults.js';

export interface DatabaseInspector {
  /** `PRAGMA journal_mode`, lower case (`delete`, `wal`, …). */
  journalMode(): string;
  /** The lines of `PRAGMA quick_check` (`['ok']` when sound). */
  quickCheck(): string[];
  /** The recorded schema version (null: not an hfhpc database) and how many plans it holds. */
  schema(): { version: number | null; plans: number };
  /** Bytes the newest plan still has to fetch (0 without a plan). */
  newestPlanBytesLeft(): number;
  /** The newest plan's root and hub URL; undefined without a plan. */
  planDefaults(): PlanDefaults | undefined;
  close(): void;
}

/**
 * Open the database at `dbPath` for inspection; undefined when the file is missing. Throws what
 * better-sqlite3 throws when it cannot be opened; each method throws when it cannot be read.
 */
export function inspectDatabase(dbPath: string, timeoutMs = 10_000): DatabaseInspector | undefined {
  if (!existsSync(dbPath)) return undefined;
  const db: Db = new Database(dbPath, { readonly: true, fileMustExist: true, timeout: timeoutMs });
  return {
    journalMode: () => String(db.pragma('journal_mode', { simple: true })).toLowerCase(),
    quickCheck: () => (db.pragma('quick_check') as { quick_check: string }[]).map((r) => r.quick_check),
    schema: () => {
      const row = hasTable(db, 'schema_version') ? (db.prepare('SELECT version FROM schema_version').get() as { version: number } | undefined) : undefined;
      const plans = hasTable(db, 'plans') ? (db.prepare('SELECT COUNT(*) AS n FROM plans').get() as { n: number }).n : 0;
      return { version: row?.version ?? null, plans };
    },
    newestPlanBytesLeft: () => newestPlanBytesLeft(db),
    planDefaults: () => planDefaultsOf(db),
    close: () => db.close(),
  };
}

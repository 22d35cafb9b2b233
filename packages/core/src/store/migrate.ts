// Bring a database up to LATEST_SCHEMA_VERSION inside the caller's write transaction.
import { StateError } from '../errors.js';
import type { Db } from './open-store.js';
import { LATEST_SCHEMA_VERSION, migrations, type Migration } from './migrations.js';

/** The stored schema version, or null when the database has no schema_version table. */
export function readSchemaVersion(db: Db): number | null {
  const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").get();
  if (!table) return null;
  const row = db.prepare('SELECT version FROM schema_version').get() as { version: number } | undefined;
  return row ? row.version : null;
}

/**
 * Apply every migration above the stored version; refuse a database newer than this code.
 * Must run inside a write transaction so concurrent openers migrate exactly once.
 */
export function migrate(db: Db, path: string, list: readonly Migration[] = migrations): number {
  const latest = list.length ? list[list.length - 1].version : 0;
  let version = readSchemaVersion(db);
  if (version === null) {
    const tables = db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number };
    if (tables.n > 0) {
      throw new StateError(`${path} is a SQLite database but not an hfhpc state database`, {
        hint: 'pass --db / HFHPC_DB pointing at an hfhpc state database, or a new file',
        context: { path },
      });
    }
    db.exec('CREATE TABLE schema_version (version INTEGER NOT NULL)');
    db.prepare('INSERT INTO schema_version (version) VALUES (0)').run();
    version = 0;
  }
  if (version > latest) {
    throw new StateError(`state database ${path} has schema version ${version}, newer than this hfhpc understands (${latest})`, {
      hint: 'upgrade hfhpc to the version that wrote this database',
      context: { path, version, supported: latest },
    });
  }
  for (const m of list) {
    if (m.version <= version) continue;
    db.exec(m.sql);
    db.prepare('UPDATE schema_version SET version = ?').run(m.version);
    version = m.version;
  }
  return version;
}

export { LATEST_SCHEMA_VERSION };

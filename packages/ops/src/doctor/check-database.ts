import { statSync } from 'node:fs';
import { LATEST_SCHEMA_VERSION, inspectDatabase, type DatabaseInspector } from '@hfhpc/core';
import type { CheckResult, DoctorContext } from './doctor-types.js';

/**
 * The state database: journal mode (must be DELETE, never WAL), `PRAGMA quick_check`, the
 * schema version against this code's, and that the file is not world-writable.
 */
export async function checkDatabase(ctx: DoctorContext): Promise<CheckResult[]> {
  let db;
  try {
    db = inspectDatabase(ctx.dbPath);
  } catch (err) {
    return [{ id: 'database', status: 'fail', detail: `cannot open ${ctx.dbPath}: ${(err as Error).message}`, fix: 'check the path (--db / HFHPC_DB) and its permissions' }];
  }
  if (!db) return [{ id: 'database', status: 'skip', detail: `no state database yet at ${ctx.dbPath} (created by \`hfhpc plan\`)` }];
  try {
    const results: CheckResult[] = [];
    const mode = db.journalMode();
    results.push(
      mode === 'delete'
        ? { id: 'journal-mode', status: 'ok', detail: 'journal mode DELETE (rollback journal)' }
        : {
            id: 'journal-mode',
            status: 'fail',
            detail: `journal mode ${mode.toUpperCase()}: WAL needs shared memory that does not exist across nodes`,
            fix: 'stop every process using the database, then run any hfhpc write command (e.g. `hfhpc cleanup`) once to switch it back to DELETE',
          },
    );
    const check = db.quickCheck();
    results.push(
      check.length === 1 && check[0] === 'ok'
        ? { id: 'quick-check', status: 'ok', detail: 'PRAGMA quick_check: ok' }
        : {
            id: 'quick-check',
            status: 'fail',
            detail: `PRAGMA quick_check: ${check.slice(0, 3).join('; ')}${check.length > 3 ? ` (+${check.length - 3} more)` : ''}`,
            fix: 'the database is damaged: move it aside and run `hfhpc plan` again (files already verified on disk are kept), then `hfhpc verify`',
          },
    );
    results.push(schemaResult(db));
    const worldWritable = (statSync(ctx.dbPath).mode & 0o002) !== 0;
    results.push(
      worldWritable
        ? { id: 'database-mode', status: 'fail', detail: `${ctx.dbPath} is world-writable`, fix: `chmod o-w ${ctx.dbPath}` }
        : { id: 'database-mode', status: 'ok', detail: `${ctx.dbPath} is not world-writable` },
    );
    return results;
  } catch (err) {
    return [{ id: 'database', status: 'fail', detail: `cannot read ${ctx.dbPath}: ${(err as Error).message}`, fix: 'is it an hfhpc state database? check --db / HFHPC_DB' }];
  } finally {
    db.close();
  }
}

function schemaResult(db: DatabaseInspector): CheckResult {
  const { version, plans } = db.schema();
  const row = version === null ? undefined : { version };
  if (!row) return { id: 'schema', status: 'fail', detail: 'not an hfhpc state database (no schema_version)', fix: 'point --db / HFHPC_DB at the database `hfhpc plan` created' };
  if (row.version > LATEST_SCHEMA_VERSION) {
    return { id: 'schema', status: 'fail', detail: `schema version ${row.version} is newer than this hfhpc (${LATEST_SCHEMA_VERSION})`, fix: 'use the hfhpc version that wrote the database' };
  }
  if (row.version < LATEST_SCHEMA_VERSION) {
    return { id: 'schema', status: 'fail', detail: `schema version ${row.version}, this hfhpc expects ${LATEST_SCHEMA_VERSION}`, fix: 'run `hfhpc cleanup` (or any write command) once to migrate it' };
  }
  return { id: 'schema', status: 'ok', detail: `schema version ${row.version}, ${plans} plan${plans === 1 ? '' : 's'}` };
}

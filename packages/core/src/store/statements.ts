// Prepared statements cached per connection: the hot paths (claim, progress, file state) run
// the same few statements thousands of times.
import type { Statement } from 'better-sqlite3';
import type { Db } from './open-store.js';

const cache = new WeakMap<Db, Map<string, Statement>>();

/** The prepared statement for `sql` on `db`, prepared once. */
export function stmt(db: Db, sql: string): Statement {
  let byDb = cache.get(db);
  if (!byDb) cache.set(db, (byDb = new Map<string, Statement>()));
  let s = byDb.get(sql);
  if (!s) byDb.set(sql, (s = db.prepare(sql)));
  return s;
}

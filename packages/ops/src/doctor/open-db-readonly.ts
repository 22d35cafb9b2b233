import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';

/**
 * The state database opened read-only and raw (no migration, no version refusal), so doctor
 * can report on a database the store would refuse to open. Undefined when the file is missing.
 */
export function openDbReadonly(dbPath: string, timeoutMs = 10_000): Database.Database | undefined {
  if (!existsSync(dbPath)) return undefined;
  return new Database(dbPath, { readonly: true, fileMustExist: true, timeout: timeoutMs });
}

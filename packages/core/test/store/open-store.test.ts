import { afterEach, describe, expect, it } from '@jest/globals';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { LATEST_SCHEMA_VERSION, StateError, migrate, openStore, readSchemaVersion, type Migration } from '../../src/index.js';
import { addPlan, testDb, type TestDb } from './helpers.js';

let t: TestDb;
afterEach(() => t?.cleanup());

describe('openStore', () => {
  it('creates the folder and file with rollback journal, synchronous FULL, foreign keys and the latest schema', () => {
    t = testDb();
    const { db } = t.store;
    expect(db.pragma('journal_mode', { simple: true })).toBe('delete');
    expect(db.pragma('synchronous', { simple: true })).toBe(2); // FULL
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('busy_timeout', { simple: true })).toBe(60_000);
    expect(readSchemaVersion(db)).toBe(LATEST_SCHEMA_VERSION);
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all();
    for (const name of ['blob_verifications', 'dataset_progress', 'datasets', 'done_rate', 'events', 'files', 'leases', 'plans', 'schema_version', 'shard_progress', 'shards', 'throttle']) {
      expect(tables).toContain(name);
    }
  });

  it('leaves the database file neither world-readable nor world-writable', () => {
    t = testDb();
    expect(statSync(t.path).mode & 0o007).toBe(0);
    expect(statSync(t.path).mode & 0o600).toBe(0o600);
  });

  it('switches a WAL database back to the rollback journal', () => {
    t = testDb();
    t.store.close();
    const raw = new Database(t.path);
    expect(raw.pragma('journal_mode = WAL', { simple: true })).toBe('wal');
    raw.close();
    const again = t.open();
    expect(again.db.pragma('journal_mode', { simple: true })).toBe('delete');
  });

  it('opening twice migrates once and keeps the data', () => {
    t = testDb();
    const planId = addPlan(t.store, [[1]]);
    const second = t.open();
    expect(second.db.prepare('SELECT count(*) FROM schema_version').pluck().get()).toBe(1);
    expect(second.db.prepare('SELECT id FROM plans').pluck().get()).toBe(planId);
  });

  it('refuses a database whose schema is newer than the code', () => {
    t = testDb();
    t.store.db.prepare('UPDATE schema_version SET version = ?').run(LATEST_SCHEMA_VERSION + 1);
    expect(() => t.open()).toThrow(StateError);
    expect(() => t.open()).toThrow(/newer than this hfhpc understands/);
    expect(() => t.open({ readonly: true })).toThrow(/newer than this hfhpc understands/);
  });

  it('refuses a SQLite file that is not an hfhpc database, and a missing file unless create', () => {
    t = testDb();
    const other = join(t.dir, 'other.sqlite');
    const raw = new Database(other);
    raw.exec('CREATE TABLE stuff (x)');
    raw.close();
    expect(() => openStore({ path: other })).toThrow(/not an hfhpc state database/);
    expect(() => openStore({ path: join(t.dir, 'missing.sqlite'), create: false })).toThrow(StateError);
    const junk = join(t.dir, 'junk.sqlite');
    writeFileSync(junk, 'this is not a database at all, just some text that is long enough');
    expect(() => openStore({ path: junk })).toThrow(StateError);
  });

  it('opens read-only: reads work, writes and missing files are refused', () => {
    t = testDb();
    addPlan(t.store, [[5]]);
    const ro = t.open({ readonly: true });
    expect(ro.readonly).toBe(true);
    expect(ro.read((db) => db.prepare('SELECT count(*) FROM files').pluck().get())).toBe(1);
    expect(() => ro.write(() => 1)).toThrow(StateError);
    expect(() => ro.db.prepare('DELETE FROM files').run()).toThrow(/readonly/);
    expect(() => openStore({ path: join(t.dir, 'nope.sqlite'), readonly: true })).toThrow(/no state database/);
  });

  it('write() commits, rolls back on a throw, and nests as a savepoint', () => {
    t = testDb();
    const s = t.store;
    s.write((db) => db.prepare("INSERT INTO throttle VALUES ('a', 1, NULL, 1, NULL)").run());
    expect(() =>
      s.write((db) => {
        db.prepare("INSERT INTO throttle VALUES ('b', 1, NULL, 1, NULL)").run();
        throw new Error('boom');
      }),
    ).toThrow('boom');
    s.write((db) => {
      db.prepare("INSERT INTO throttle VALUES ('c', 1, NULL, 1, NULL)").run();
      try {
        s.write((d) => {
          d.prepare("INSERT INTO throttle VALUES ('d', 1, NULL, 1, NULL)").run();
          throw new Error('inner');
        });
      } catch {
        // the inner savepoint is rolled back, the outer transaction goes on
      }
    });
    expect(s.db.prepare('SELECT scope FROM throttle ORDER BY scope').pluck().all()).toEqual(['a', 'c']);
  });
});

describe('migrate', () => {
  it('runs only the migrations above the stored version, in order', () => {
    t = testDb();
    const v0 = LATEST_SCHEMA_VERSION;
    const list: Migration[] = [
      { version: v0, sql: 'SELECT 1' }, // already applied by openStore
      { version: v0 + 1, sql: 'ALTER TABLE plans ADD COLUMN note TEXT' },
      { version: v0 + 2, sql: "UPDATE plans SET note = 'migrated'" },
    ];
    addPlan(t.store, [[1]]);
    const v = t.store.write((db) => migrate(db, t.path, list));
    expect(v).toBe(v0 + 2);
    expect(t.store.db.prepare('SELECT note FROM plans').pluck().get()).toBe('migrated');
    expect(t.store.write((db) => migrate(db, t.path, list))).toBe(v0 + 2);
    expect(() => t.store.write((db) => migrate(db, t.path, list.slice(0, 2)))).toThrow(StateError);
  });
});

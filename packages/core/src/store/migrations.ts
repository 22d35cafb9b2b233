// Forward-only schema migrations. Append a new entry to change the schema; never edit a
// released one (databases in the field already ran it). docs/architecture.md describes the
// resulting schema.

export interface Migration {
  /** The schema version this migration produces; versions are 1, 2, 3… in order. */
  version: number;
  /** SQL run inside the migrating write transaction. */
  sql: string;
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    sql: `
CREATE TABLE plans (
  id              INTEGER PRIMARY KEY,
  created_at      INTEGER NOT NULL,
  manifest_path   TEXT    NOT NULL,
  manifest_sha256 TEXT    NOT NULL,
  root            TEXT    NOT NULL,
  hub_url         TEXT    NOT NULL,
  shard_count     INTEGER NOT NULL,
  job_ids         TEXT    NOT NULL DEFAULT '[]',
  options         TEXT    NOT NULL DEFAULT '{}'
);
CREATE TABLE datasets (
  id         INTEGER PRIMARY KEY,
  plan_id    INTEGER NOT NULL REFERENCES plans(id) ON DELETE CASCADE,
  repo       TEXT    NOT NULL,
  revision   TEXT    NOT NULL,
  commit_sha TEXT    NOT NULL,
  UNIQUE (plan_id, repo)
);
CREATE TABLE shards (
  id          INTEGER PRIMARY KEY,
  plan_id     INTEGER NOT NULL REFERENCES plans(id) ON DELETE CASCADE,
  idx         INTEGER NOT NULL,
  bytes_total INTEGER NOT NULL,
  files_total INTEGER NOT NULL,
  state       TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending','running','done','failed')),
  fence       INTEGER NOT NULL DEFAULT 0,
  attempts    INTEGER NOT NULL DEFAULT 0,
  last_error  TEXT,
  UNIQUE (plan_id, idx)
);
CREATE INDEX shards_plan_state ON shards (plan_id, state, bytes_total);
CREATE TABLE files (
  id         INTEGER PRIMARY KEY,
  dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
  shard_id   INTEGER NOT NULL REFERENCES shards(id) ON DELETE CASCADE,
  path       TEXT    NOT NULL,
  size       INTEGER NOT NULL,
  oid        TEXT    NOT NULL,
  lfs_sha256 TEXT,
  blob       TEXT    NOT NULL,
  state      TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending','running','done','failed')),
  bytes_done INTEGER NOT NULL DEFAULT 0,
  attempts   INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  updated_at INTEGER,
  UNIQUE (dataset_id, path)
);
CREATE INDEX files_shard ON files (shard_id, state);
CREATE INDEX files_blob ON files (blob);
CREATE TABLE leases (
  shard_id     INTEGER PRIMARY KEY REFERENCES shards(id) ON DELETE CASCADE,
  owner        TEXT    NOT NULL,
  fence        INTEGER NOT NULL,
  acquired_at  INTEGER NOT NULL,
  heartbeat_at INTEGER NOT NULL,
  expires_at   INTEGER NOT NULL
);
CREATE INDEX leases_expiry ON leases (expires_at);
CREATE TABLE events (
  id       INTEGER PRIMARY KEY,
  at       INTEGER NOT NULL,
  plan_id  INTEGER,
  shard_id INTEGER,
  file_id  INTEGER,
  owner    TEXT,
  kind     TEXT    NOT NULL,
  detail   TEXT
);
CREATE INDEX events_plan ON events (plan_id, id);
CREATE TABLE throttle (
  scope      TEXT    PRIMARY KEY,
  not_before INTEGER NOT NULL,
  reason     TEXT,
  set_at     INTEGER NOT NULL,
  set_by     TEXT
);
`,
  },
  {
    // Verification per blob file, not per plan: what its stat was when hfhpc last hashed it (a
    // worker publishing a download, or verify), so a later verify re-hashes only what changed.
    // ino and dev are unsigned 64-bit and may not fit SQLite's signed INTEGER: kept as text.
    version: 2,
    sql: `
CREATE TABLE blob_verifications (
  repo        TEXT    NOT NULL,
  blob        TEXT    NOT NULL,
  size        INTEGER NOT NULL,
  mtime_ns    INTEGER NOT NULL,
  ctime_ns    INTEGER NOT NULL,
  ino         TEXT    NOT NULL,
  dev         TEXT    NOT NULL,
  verified_at INTEGER NOT NULL,
  source      TEXT    NOT NULL CHECK (source IN ('placed','verify')),
  PRIMARY KEY (repo, blob)
) WITHOUT ROWID;
`,
  },
];

/** The schema version this code writes and expects. */
export const LATEST_SCHEMA_VERSION: number = migrations[migrations.length - 1]!.version;

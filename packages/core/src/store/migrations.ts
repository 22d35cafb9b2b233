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
    // Status reads these counters instead of the files: its cost is O(datasets + shards), and
    // its shared lock lasts a few milliseconds whatever the plan's size. Triggers keep them in
    // the same transaction as every change to `files`, whoever makes it.
    version: 2,
    sql: `
CREATE TABLE shard_progress (
  shard_id      INTEGER PRIMARY KEY REFERENCES shards(id) ON DELETE CASCADE,
  files         INTEGER NOT NULL DEFAULT 0,
  bytes         INTEGER NOT NULL DEFAULT 0,
  files_done    INTEGER NOT NULL DEFAULT 0,
  files_failed  INTEGER NOT NULL DEFAULT 0,
  files_running INTEGER NOT NULL DEFAULT 0,
  bytes_done    INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE dataset_progress (
  dataset_id    INTEGER PRIMARY KEY REFERENCES datasets(id) ON DELETE CASCADE,
  files         INTEGER NOT NULL DEFAULT 0,
  bytes         INTEGER NOT NULL DEFAULT 0,
  files_done    INTEGER NOT NULL DEFAULT 0,
  files_failed  INTEGER NOT NULL DEFAULT 0,
  files_running INTEGER NOT NULL DEFAULT 0,
  bytes_done    INTEGER NOT NULL DEFAULT 0
);
-- Bytes of files that became done, per dataset and 10-second bucket: the completion rate.
CREATE TABLE done_rate (
  dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
  bucket     INTEGER NOT NULL,
  bytes      INTEGER NOT NULL,
  PRIMARY KEY (dataset_id, bucket)
) WITHOUT ROWID;

CREATE TRIGGER shards_progress_row AFTER INSERT ON shards BEGIN
  INSERT INTO shard_progress (shard_id) VALUES (NEW.id);
END;
CREATE TRIGGER datasets_progress_row AFTER INSERT ON datasets BEGIN
  INSERT INTO dataset_progress (dataset_id) VALUES (NEW.id);
END;
CREATE TRIGGER files_progress_insert AFTER INSERT ON files BEGIN
  UPDATE shard_progress SET files = files + 1, bytes = bytes + NEW.size,
    files_done = files_done + (NEW.state = 'done'), files_failed = files_failed + (NEW.state = 'failed'),
    files_running = files_running + (NEW.state = 'running'),
    bytes_done = bytes_done + CASE WHEN NEW.state = 'done' THEN NEW.size ELSE MIN(NEW.bytes_done, NEW.size) END
  WHERE shard_id = NEW.shard_id;
  UPDATE dataset_progress SET files = files + 1, bytes = bytes + NEW.size,
    files_done = files_done + (NEW.state = 'done'), files_failed = files_failed + (NEW.state = 'failed'),
    files_running = files_running + (NEW.state = 'running'),
    bytes_done = bytes_done + CASE WHEN NEW.state = 'done' THEN NEW.size ELSE MIN(NEW.bytes_done, NEW.size) END
  WHERE dataset_id = NEW.dataset_id;
END;
CREATE TRIGGER files_progress_delete AFTER DELETE ON files BEGIN
  UPDATE shard_progress SET files = files - 1, bytes = bytes - OLD.size,
    files_done = files_done - (OLD.state = 'done'), files_failed = files_failed - (OLD.state = 'failed'),
    files_running = files_running - (OLD.state = 'running'),
    bytes_done = bytes_done - CASE WHEN OLD.state = 'done' THEN OLD.size ELSE MIN(OLD.bytes_done, OLD.size) END
  WHERE shard_id = OLD.shard_id;
  UPDATE dataset_progress SET files = files - 1, bytes = bytes - OLD.size,
    files_done = files_done - (OLD.state = 'done'), files_failed = files_failed - (OLD.state = 'failed'),
    files_running = files_running - (OLD.state = 'running'),
    bytes_done = bytes_done - CASE WHEN OLD.state = 'done' THEN OLD.size ELSE MIN(OLD.bytes_done, OLD.size) END
  WHERE dataset_id = OLD.dataset_id;
END;
-- Take the old row out and put the new one in: right even if a file moved shard or dataset.
CREATE TRIGGER files_progress_update AFTER UPDATE OF state, bytes_done, size, shard_id, dataset_id ON files
WHEN OLD.state IS NOT NEW.state OR OLD.bytes_done IS NOT NEW.bytes_done OR OLD.size IS NOT NEW.size
  OR OLD.shard_id IS NOT NEW.shard_id OR OLD.dataset_id IS NOT NEW.dataset_id
BEGIN
  UPDATE shard_progress SET files = files - 1, bytes = bytes - OLD.size,
    files_done = files_done - (OLD.state = 'done'), files_failed = files_failed - (OLD.state = 'failed'),
    files_running = files_running - (OLD.state = 'running'),
    bytes_done = bytes_done - CASE WHEN OLD.state = 'done' THEN OLD.size ELSE MIN(OLD.bytes_done, OLD.size) END
  WHERE shard_id = OLD.shard_id;
  UPDATE shard_progress SET files = files + 1, bytes = bytes + NEW.size,
    files_done = files_done + (NEW.state = 'done'), files_failed = files_failed + (NEW.state = 'failed'),
    files_running = files_running + (NEW.state = 'running'),
    bytes_done = bytes_done + CASE WHEN NEW.state = 'done' THEN NEW.size ELSE MIN(NEW.bytes_done, NEW.size) END
  WHERE shard_id = NEW.shard_id;
  UPDATE dataset_progress SET files = files - 1, bytes = bytes - OLD.size,
    files_done = files_done - (OLD.state = 'done'), files_failed = files_failed - (OLD.state = 'failed'),
    files_running = files_running - (OLD.state = 'running'),
    bytes_done = bytes_done - CASE WHEN OLD.state = 'done' THEN OLD.size ELSE MIN(OLD.bytes_done, OLD.size) END
  WHERE dataset_id = OLD.dataset_id;
  UPDATE dataset_progress SET files = files + 1, bytes = bytes + NEW.size,
    files_done = files_done + (NEW.state = 'done'), files_failed = files_failed + (NEW.state = 'failed'),
    files_running = files_running + (NEW.state = 'running'),
    bytes_done = bytes_done + CASE WHEN NEW.state = 'done' THEN NEW.size ELSE MIN(NEW.bytes_done, NEW.size) END
  WHERE dataset_id = NEW.dataset_id;
END;
CREATE TRIGGER files_done_rate AFTER UPDATE OF state ON files
WHEN NEW.state = 'done' AND OLD.state IS NOT 'done' AND NEW.updated_at IS NOT NULL
BEGIN
  INSERT INTO done_rate (dataset_id, bucket, bytes) VALUES (NEW.dataset_id, NEW.updated_at / 10000, NEW.size)
  ON CONFLICT (dataset_id, bucket) DO UPDATE SET bytes = bytes + excluded.bytes;
END;

-- Backfill for databases made by version 1: one pass over the files.
INSERT INTO shard_progress (shard_id) SELECT id FROM shards;
INSERT INTO dataset_progress (dataset_id) SELECT id FROM datasets;
UPDATE shard_progress SET (files, bytes, files_done, files_failed, files_running, bytes_done) = (
  SELECT COUNT(*), COALESCE(SUM(size), 0), COALESCE(SUM(state = 'done'), 0), COALESCE(SUM(state = 'failed'), 0), COALESCE(SUM(state = 'running'), 0),
         COALESCE(SUM(CASE WHEN state = 'done' THEN size ELSE MIN(bytes_done, size) END), 0)
  FROM files WHERE files.shard_id = shard_progress.shard_id);
UPDATE dataset_progress SET (files, bytes, files_done, files_failed, files_running, bytes_done) = (
  SELECT COUNT(*), COALESCE(SUM(size), 0), COALESCE(SUM(state = 'done'), 0), COALESCE(SUM(state = 'failed'), 0), COALESCE(SUM(state = 'running'), 0),
         COALESCE(SUM(CASE WHEN state = 'done' THEN size ELSE MIN(bytes_done, size) END), 0)
  FROM files WHERE files.dataset_id = dataset_progress.dataset_id);
INSERT INTO done_rate (dataset_id, bucket, bytes)
  SELECT f.dataset_id, f.updated_at / 10000, SUM(f.size) FROM files f
  JOIN datasets d ON d.id = f.dataset_id JOIN plans p ON p.id = d.plan_id
  WHERE f.state = 'done' AND f.updated_at > p.created_at GROUP BY f.dataset_id, f.updated_at / 10000;
`,
  },
  {
    // Verification per blob file, not per plan: what its stat was when hfhpc last hashed it (a
    // worker publishing a download, or verify), so a later verify re-hashes only what changed.
    // ino and dev are unsigned 64-bit and may not fit SQLite's signed INTEGER: kept as text.
    version: 3,
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
  {
    // The request budget of the Hub token, per bucket, shared by every task of the array: the
    // window the Hub's RateLimit headers describe and how much of it the array has claimed
    // (core rate-window.ts).
    version: 4,
    sql: `
CREATE TABLE rate_budget (
  bucket      TEXT    PRIMARY KEY,
  quota       INTEGER NOT NULL,
  window_ms   INTEGER NOT NULL,
  reset_lo    INTEGER NOT NULL,
  reset_hi    INTEGER NOT NULL,
  used        INTEGER NOT NULL,
  started_at  INTEGER NOT NULL,
  observed_at INTEGER NOT NULL,
  probed_at   INTEGER NOT NULL DEFAULT 0,
  updated_at  INTEGER NOT NULL,
  updated_by  TEXT
);
`,
  },
  {
    // The worker reads a shard a page at a time, largest blobs first, a blob's files together
    // (shard-files-page.ts): this index serves that order without sorting the shard.
    version: 5,
    sql: `
CREATE INDEX files_shard_order ON files (shard_id, size, blob);
`,
  },
  {
    // Status lists a sample of failed files on every call: a covering index over just the failed
    // ones, so a fresh process reads a few pages instead of one table page per failed file.
    version: 6,
    sql: `
CREATE INDEX files_failed ON files (shard_id, dataset_id, path, last_error) WHERE state = 'failed';
`,
  },
];

/** The schema version this code writes and expects. */
export const LATEST_SCHEMA_VERSION: number = migrations[migrations.length - 1].version;

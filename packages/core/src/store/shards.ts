// Reading shards and their files: the worker's view of one shard, status's view of all.
import type { Store } from './open-store.js';
import { stmt } from './statements.js';
import type { ShardFile, ShardRow, WorkState } from './types.js';

interface RawShard {
  id: number;
  plan_id: number;
  idx: number;
  bytes_total: number;
  files_total: number;
  state: WorkState;
  fence: number;
  attempts: number;
  last_error: string | null;
  owner: string | null;
  expires_at: number | null;
  heartbeat_at: number | null;
  bytes_done: number | null;
  files_done: number | null;
  files_failed: number | null;
}

// The counters kept by the triggers of schema version 2: no pass over the files.
const LIST_SHARDS = `
SELECT s.*, l.owner, l.expires_at, l.heartbeat_at, p.bytes_done, p.files_done, p.files_failed
FROM shards s
LEFT JOIN leases l ON l.shard_id = s.id
LEFT JOIN shard_progress p ON p.shard_id = s.id
WHERE s.plan_id = @planId
ORDER BY s.idx`;

/** Every shard of a plan in index order, with progress totals and its lease (if any). */
export function listShards(store: Store, planId: number): ShardRow[] {
  const rows = store.read((db) => stmt(db, LIST_SHARDS).all({ planId }) as RawShard[]);
  return rows.map((r) => ({
    id: r.id,
    planId: r.plan_id,
    index: r.idx,
    bytesTotal: r.bytes_total,
    filesTotal: r.files_total,
    state: r.state,
    fence: r.fence,
    attempts: r.attempts,
    lastError: r.last_error,
    bytesDone: r.bytes_done ?? 0,
    filesDone: r.files_done ?? 0,
    filesFailed: r.files_failed ?? 0,
    owner: r.owner,
    leaseExpiresAt: r.expires_at,
    heartbeatAt: r.heartbeat_at,
  }));
}

const SHARD_FILES = `
SELECT f.id, f.shard_id, f.path, f.size, f.oid, f.lfs_sha256, f.blob, f.state, f.bytes_done, f.attempts, f.last_error,
       d.id AS dataset_id, d.repo, d.revision, d.commit_sha
FROM files f JOIN datasets d ON d.id = f.dataset_id
WHERE f.shard_id = ?
ORDER BY f.id`;

/** The files of one shard with their dataset's repo, revision and pinned commit, in plan order. */
export function shardFiles(store: Store, shardId: number): ShardFile[] {
  const rows = store.read((db) => stmt(db, SHARD_FILES).all(shardId) as Record<string, unknown>[]);
  return rows.map(shardFileFromRow);
}

/** A row of `files f JOIN datasets d` with SHARD_FILES' columns, as a ShardFile. */
export function shardFileFromRow(r: Record<string, unknown>): ShardFile {
  return {
    id: r.id as number,
    shardId: r.shard_id as number,
    path: r.path as string,
    size: r.size as number,
    oid: r.oid as string,
    lfsSha256: r.lfs_sha256 as string | null,
    blob: r.blob as string,
    state: r.state as WorkState,
    bytesDone: r.bytes_done as number,
    attempts: r.attempts as number,
    lastError: r.last_error as string | null,
    datasetId: r.dataset_id as number,
    repo: r.repo as string,
    revision: r.revision as string,
    commitSha: r.commit_sha as string,
  };
}

export interface BlobState {
  /** Some file with this blob, in any plan, was completed. */
  done: boolean;
  /** Largest bytes_done recorded for it. */
  bytesDone: number;
}

/**
 * What earlier plans recorded about these blobs (for idempotent re-plans: a done blob stays
 * done). Blobs never seen are absent from the map.
 */
export function fileStatesByBlob(store: Store, blobs: Iterable<string>): Map<string, BlobState> {
  const list = JSON.stringify([...new Set(blobs)]);
  const rows = store.read(
    (db) =>
      stmt(
        db,
        `SELECT blob, MAX(state = 'done') AS done, MAX(bytes_done) AS bytes_done FROM files
         WHERE blob IN (SELECT value FROM json_each(?)) GROUP BY blob`,
      ).all(list) as { blob: string; done: number; bytes_done: number }[],
  );
  return new Map(rows.map((r) => [r.blob, { done: r.done === 1, bytesDone: r.bytes_done }]));
}

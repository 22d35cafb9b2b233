// The worker's paged view of one shard: its files a page at a time, largest blobs first, so a
// worker holds what is in flight and not the shard. A blob's files come together, in chunks of
// at most a page when one blob has more paths than that (many empty files share one blob).
import type { Store } from './open-store.js';
import { shardFileFromRow } from './shards.js';
import { stmt } from './statements.js';
import type { ShardFile } from './types.js';

/** Where the next page starts: after this (size, blob) key in the shard's order, or within that blob after file `id`. */
export interface ShardFilesCursor {
  size: number;
  blob: string;
  /** Set when the last page ended inside the blob: the next page is the blob's next chunk. */
  id?: number;
}

export interface ShardFilesPage {
  /** In the shard's order (size, then blob, descending; a blob's files in plan order); at most 2 × limit files. */
  files: ShardFile[];
  /** The next page's start; undefined when this page ends the shard. */
  next?: ShardFilesCursor;
}

const COLUMNS = `f.id, f.shard_id, f.path, f.size, f.oid, f.lfs_sha256, f.blob, f.state, f.bytes_done, f.attempts, f.last_error,
       d.id AS dataset_id, d.repo, d.revision, d.commit_sha
FROM files f JOIN datasets d ON d.id = f.dataset_id`;

// Served by the index files_shard_order (shard_id, size, blob) of schema version 5, walked
// backwards: no pass over the shard's other files; only a blob's own files are sorted (plan
// order within a blob, so its first path is the one fetched, as in the plan).
const FIRST_PAGE = `SELECT ${COLUMNS}
WHERE f.shard_id = @shardId
ORDER BY f.size DESC, f.blob DESC, f.id LIMIT @limit`;

const NEXT_PAGE = `SELECT ${COLUMNS}
WHERE f.shard_id = @shardId AND (f.size, f.blob) < (@size, @blob)
ORDER BY f.size DESC, f.blob DESC, f.id LIMIT @limit`;

// The rest of the last blob a full page reached (so that a blob's files come together), a
// chunk at a time.
const BLOB_REST = `SELECT ${COLUMNS}
WHERE f.shard_id = @shardId AND f.size = @size AND f.blob = @blob AND f.id > @id
ORDER BY f.id LIMIT @limit`;

/**
 * One page of a shard's files (done ones included: the worker checks their blob is still
 * there): `limit` files unless the shard ends, plus up to `limit` more to finish the last blob;
 * a blob with more paths than that continues in the next page (the cursor's `id`), a chunk
 * of at most `limit` files. Keyset pagination: each page costs its own rows, and files whose
 * state changed between pages (finished by another claim) are read as they are now.
 */
export function shardFilesPage(store: Store, p: { shardId: number; after?: ShardFilesCursor; limit: number }): ShardFilesPage {
  const limit = Math.max(1, Math.floor(p.limit));
  const { shardId, after } = p;
  return store.read((db) => {
    const blobRest = (size: unknown, blob: unknown, id: unknown) => stmt(db, BLOB_REST).all({ shardId, size, blob, id, limit }) as Record<string, unknown>[];
    if (after?.id !== undefined) {
      const chunk = blobRest(after.size, after.blob, after.id);
      if (chunk.length) return pageOf([], chunk, limit, after);
    }
    const rows = (after ? stmt(db, NEXT_PAGE).all({ shardId, size: after.size, blob: after.blob, limit }) : stmt(db, FIRST_PAGE).all({ shardId, limit })) as Record<string, unknown>[];
    if (rows.length < limit) return { files: rows.map(shardFileFromRow) };
    const last = rows[rows.length - 1];
    return pageOf(rows, blobRest(last.size, last.blob, last.id), limit, { size: last.size as number, blob: last.blob as string });
  });
}

/** A page of `rows` plus a chunk of the last blob's `rest`: the cursor stays inside the blob while a full chunk may leave more. */
function pageOf(rows: Record<string, unknown>[], rest: Record<string, unknown>[], limit: number, blob: { size: number; blob: string }): ShardFilesPage {
  const files = [...rows, ...rest].map(shardFileFromRow);
  const next = rest.length === limit ? { size: blob.size, blob: blob.blob, id: rest[rest.length - 1].id as number } : { size: blob.size, blob: blob.blob };
  return { files, next };
}

/** A shard's planned totals (kept on its row: no pass over its files). */
export function shardTotals(store: Store, shardId: number): { files: number; bytes: number } {
  const row = store.read((db) => stmt(db, 'SELECT files_total, bytes_total FROM shards WHERE id = ?').get(shardId)) as { files_total: number; bytes_total: number } | undefined;
  return { files: row?.files_total ?? 0, bytes: row?.bytes_total ?? 0 };
}

/** Some unfinished file of the shard has bytes recorded: an earlier claim may have left partial files. */
export function shardHasRecordedBytes(store: Store, shardId: number): boolean {
  const row = store.read((db) =>
    stmt(db, "SELECT EXISTS (SELECT 1 FROM files WHERE shard_id = ? AND state != 'done' AND bytes_done > 0) AS yes").get(shardId),
  ) as { yes: number };
  return row.yes === 1;
}

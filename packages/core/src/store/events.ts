// The append-only event log: claims, releases, expiries, failures, throttles. Status and
// post-mortems read it; `cleanup` prunes old entries.
import type { Db, Store } from './open-store.js';
import { stmt } from './statements.js';
import type { EventRow } from './types.js';

export interface NewEvent {
  kind: string;
  planId?: number | null;
  shardId?: number | null;
  fileId?: number | null;
  owner?: string | null;
  /** Stored as JSON; never put a secret here. */
  detail?: unknown;
}

/** Insert one event inside an open transaction (used by the other store modules). */
export function insertEvent(db: Db, at: number, e: NewEvent): number {
  const info = stmt(
    db,
    'INSERT INTO events (at, plan_id, shard_id, file_id, owner, kind, detail) VALUES (?, ?, ?, ?, ?, ?, ?)',
  ).run(at, e.planId ?? null, e.shardId ?? null, e.fileId ?? null, e.owner ?? null, e.kind, e.detail === undefined ? null : JSON.stringify(e.detail));
  return Number(info.lastInsertRowid);
}

/** Append an event in its own write transaction (or the caller's); returns its id. */
export function appendEvent(store: Store, event: NewEvent): number {
  return store.write((db) => insertEvent(db, store.now(), event));
}

interface RawEvent {
  id: number;
  at: number;
  plan_id: number | null;
  shard_id: number | null;
  file_id: number | null;
  owner: string | null;
  kind: string;
  detail: string | null;
}

export interface RecentEventsParams {
  /** Most events returned. Default 100. */
  limit?: number;
  /** Only events with a larger id, oldest first (for tailing). Default: the newest `limit`. */
  sinceId?: number;
  /** Only events of this plan. Default: all plans. */
  planId?: number;
  /** Only these kinds. Default: all. */
  kinds?: string[];
}

/** Events in id order (oldest first): the newest `limit`, or the first `limit` after `sinceId`. */
export function recentEvents(store: Store, params: RecentEventsParams = {}): EventRow[] {
  const { limit = 100, sinceId, planId, kinds } = params;
  const where: string[] = [];
  const args: unknown[] = [];
  const add = (sql: string, arg: unknown) => {
    where.push(sql);
    args.push(arg);
  };
  if (sinceId !== undefined) add('id > ?', sinceId);
  if (planId !== undefined) add('plan_id = ?', planId);
  if (kinds?.length) add('kind IN (SELECT value FROM json_each(?))', JSON.stringify(kinds));
  const cond = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const order = sinceId !== undefined ? 'ASC' : 'DESC';
  const rows = store.read(
    (db) => db.prepare(`SELECT * FROM events ${cond} ORDER BY id ${order} LIMIT ?`).all(...args, limit) as RawEvent[],
  );
  if (order === 'DESC') rows.reverse();
  return rows.map((r) => ({
    id: r.id,
    at: r.at,
    planId: r.plan_id,
    shardId: r.shard_id,
    fileId: r.file_id,
    owner: r.owner,
    kind: r.kind,
    detail: r.detail === null ? null : (JSON.parse(r.detail) as unknown),
  }));
}

export interface PruneEventsParams {
  /** Events older than this (ms since the epoch) go. */
  before: number;
  /** Kinds kept whatever their age (cleanup keeps `verified`: verify's record of what it hashed). */
  keepKinds?: readonly string[];
}

const PRUNABLE = "at < ? AND kind NOT IN (SELECT value FROM json_each(?))";

/** Delete events older than `before` (ms), except the kinds kept; returns how many were removed. */
export function pruneEvents(store: Store, params: PruneEventsParams): number {
  return store.write((db) => stmt(db, `DELETE FROM events WHERE ${PRUNABLE}`).run(params.before, JSON.stringify(params.keepKinds ?? [])).changes);
}

/** How many events `pruneEvents` with the same parameters would delete (a dry run). */
export function countPrunableEvents(store: Store, params: PruneEventsParams): number {
  return store.read((db) => (stmt(db, `SELECT COUNT(*) AS n FROM events WHERE ${PRUNABLE}`).get(params.before, JSON.stringify(params.keepKinds ?? [])) as { n: number }).n);
}

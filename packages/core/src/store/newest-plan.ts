// Reads about the newest plan (the current one) that cleanup and doctor make without a plan id.
// The "datasets of the newest plan" clause lives here once.
import type { Db, Store } from './open-store.js';
import { stmt } from './statements.js';

/** Ids of the newest plan's datasets (a subquery: `d.id IN (…)` or `dataset_id IN (…)`). */
export const NEWEST_PLAN_DATASETS = 'SELECT id FROM datasets WHERE plan_id = (SELECT MAX(id) FROM plans)';

// Blobs still to fetch in the newest plan, with the repo they belong to.
const NEEDED_BLOBS = `
SELECT DISTINCT d.repo, f.blob FROM files f JOIN datasets d ON d.id = f.dataset_id
WHERE d.id IN (${NEWEST_PLAN_DATASETS}) AND f.state <> 'done'`;

/** The blobs (with their repo) the newest plan still has to fetch: a partial of one is resumable. */
export function neededBlobs(store: Store): { repo: string; blob: string }[] {
  return store.read((db) => stmt(db, NEEDED_BLOBS).all() as { repo: string; blob: string }[]);
}

// Bytes still to fetch in the newest plan, counting each blob once (files sharing a blob are
// stored once, and hard-linked across repo folders) and the partial bytes already on disk as done.
const BYTES_LEFT = `
SELECT COALESCE(SUM(left), 0) AS left FROM (
  SELECT MIN(MAX(f.size - MIN(f.bytes_done, f.size), 0)) AS left
  FROM files f
  WHERE f.dataset_id IN (${NEWEST_PLAN_DATASETS}) AND f.state <> 'done'
  GROUP BY f.blob)`;

/** What the newest plan still has to fetch, in bytes (0 without a plan). Takes a connection: doctor reads a raw one. */
export function newestPlanBytesLeft(db: Db): number {
  return (stmt(db, BYTES_LEFT).get() as { left: number }).left;
}

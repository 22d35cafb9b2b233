// The root and hub URL stored with a plan, for commands run with only `--db`: the plan knows
// where its files are better than a default `./datasets` does.
import type { Db, Store } from './open-store.js';
import { stmt } from './statements.js';

export interface PlanDefaults {
  planId: number;
  /** The absolute download root the plan was made for. */
  root: string;
  hubUrl: string;
}

/** The root and hub URL of plan `planId` (default: the newest); undefined when there is no such plan. */
export function planDefaults(store: Store, planId?: number): PlanDefaults | undefined {
  return store.read((db) => planDefaultsOf(db, planId));
}

/** `planDefaults` on a connection (store-internal; doctor's raw read-only one may lack a plans table). */
export function planDefaultsOf(db: Db, planId?: number): PlanDefaults | undefined {
  if (!hasTable(db, 'plans')) return undefined;
  const row = (
    planId === undefined ? stmt(db, 'SELECT id, root, hub_url FROM plans ORDER BY id DESC LIMIT 1').get() : stmt(db, 'SELECT id, root, hub_url FROM plans WHERE id = ?').get(planId)
  ) as { id: number; root: string; hub_url: string } | undefined;
  return row ? { planId: row.id, root: row.root, hubUrl: row.hub_url } : undefined;
}

/** Whether the database has this table (a file that is not, or not yet, an hfhpc database may not). */
export function hasTable(db: Db, name: string): boolean {
  return stmt(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
}

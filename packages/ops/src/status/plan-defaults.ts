import type { Db } from '@hfhpc/core';

export interface PlanDefaults {
  planId: number;
  /** The absolute download root the plan was made for. */
  root: string;
  hubUrl: string;
}

/**
 * The root and hub URL stored with a plan (default: the newest), for commands run with only
 * `--db`: the plan knows where its files are better than a default `./datasets` does.
 * Undefined when the database holds no such plan (or no plans table).
 */
export function planDefaults(db: Db, planId?: number): PlanDefaults | undefined {
  const hasPlans = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'plans'").get();
  if (!hasPlans) return undefined;
  const row = (
    planId === undefined
      ? db.prepare('SELECT id, root, hub_url FROM plans ORDER BY id DESC LIMIT 1').get()
      : db.prepare('SELECT id, root, hub_url FROM plans WHERE id = ?').get(planId)
  ) as { id: number; root: string; hub_url: string } | undefined;
  return row ? { planId: row.id, root: row.root, hubUrl: row.hub_url } : undefined;
}

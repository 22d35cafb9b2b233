// "The newest plan, or plan N": the one place every command resolves the plan it works on
// (status, verify, the worker, run --local's summary), with the same error when there is none.
import { StateError } from '../errors.js';
import type { Store } from './open-store.js';
import { getPlan, latestPlan } from './plan.js';
import type { PlanRow } from './types.js';

/** Plan `planId`, or the newest plan when undefined; null when there is no such plan. */
export function findPlan(store: Store, planId?: number): PlanRow | null {
  return planId === undefined ? latestPlan(store) : getPlan(store, planId);
}

export interface ResolvePlanHints {
  /** The hint when the database holds no plan. Default: run `hfhpc plan`. */
  none?: string;
  /** The hint when plan N does not exist. Default: leave out --plan-id, or see `hfhpc status`. */
  missing?: string;
}

/**
 * Plan `planId`, or the newest plan when undefined. StateError (exit 1) `no plan in <db>` or
 * `no plan N in <db>` otherwise; the hints say what the caller's user can do about it.
 */
export function resolvePlan(store: Store, planId?: number, hints: ResolvePlanHints = {}): PlanRow {
  const plan = findPlan(store, planId);
  if (plan) return plan;
  throw noPlanError(store.path, planId, hints);
}

/** The error for a plan that is not there (store-internal: planProgress reads the raw row). */
export function noPlanError(path: string, planId: number | undefined, hints: ResolvePlanHints = {}): StateError {
  return new StateError(planId === undefined ? `no plan in ${path}` : `no plan ${planId} in ${path}`, {
    hint:
      planId === undefined
        ? (hints.none ?? 'run `hfhpc plan --manifest <file>` first')
        : (hints.missing ?? 'leave out --plan-id for the newest plan, or see `hfhpc status`'),
  });
}

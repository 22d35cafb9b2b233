// The cluster-wide pause after a 429: one task learns "no requests before T" and every task
// of the array honours it, so the array backs off as one client instead of N.
import { insertEvent } from './events.js';
import type { Store } from './open-store.js';
import { stmt } from './statements.js';

export interface Throttle {
  scope: string;
  /** No requests before this time (ms since the epoch). */
  notBefore: number;
  reason: string | null;
  setAt: number;
  setBy: string | null;
}

interface RawThrottle {
  scope: string;
  not_before: number;
  reason: string | null;
  set_at: number;
  set_by: string | null;
}

const toThrottle = (r: RawThrottle): Throttle => ({ scope: r.scope, notBefore: r.not_before, reason: r.reason, setAt: r.set_at, setBy: r.set_by });

/** The pause in force for `scope` (default 'hub'), or null when none is (any more). */
export function getThrottle(store: Store, params: { scope?: string } = {}): Throttle | null {
  const { scope = 'hub' } = params;
  const r = store.read((db) => stmt(db, 'SELECT * FROM throttle WHERE scope = ?').get(scope) as RawThrottle | undefined);
  return r && r.not_before > store.now() ? toThrottle(r) : null;
}

export interface SetThrottleParams {
  /** Default 'hub'. */
  scope?: string;
  notBefore: number;
  reason?: string;
  /** Lease owner or other name of who saw the 429. */
  setBy?: string;
}

/**
 * Extend the pause to `notBefore`; never shortens one already in force (a later, shorter
 * Retry-After must not cut another task's longer wait). Returns the pause now in force.
 */
export function setThrottle(store: Store, params: SetThrottleParams): Throttle {
  const { scope = 'hub', notBefore, reason = null, setBy = null } = params;
  return store.write((db) => {
    const now = store.now();
    const changed = stmt(
      db,
      `INSERT INTO throttle (scope, not_before, reason, set_at, set_by) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (scope) DO UPDATE SET not_before = excluded.not_before, reason = excluded.reason, set_at = excluded.set_at, set_by = excluded.set_by
       WHERE excluded.not_before > throttle.not_before`,
    ).run(scope, notBefore, reason, now, setBy).changes;
    if (changed > 0) insertEvent(db, now, { kind: 'throttle', owner: setBy, detail: { scope, notBefore, reason } });
    return toThrottle(stmt(db, 'SELECT * FROM throttle WHERE scope = ?').get(scope) as RawThrottle);
  });
}

import { afterEach, describe, expect, it } from '@jest/globals';
import { claimRateBudget, getRateBudget, rateSampleOf, windowOfSample } from '../../src/index.js';
import { testDb, type TestDb } from './helpers.js';

let t: TestDb;
afterEach(() => t?.cleanup());

const seenAt = (at: number, r: number, tSec: number) =>
  windowOfSample(rateSampleOf({ ratelimit: `"resolvers";r=${r};t=${tSec}`, 'ratelimit-policy': `"fixed window";"resolvers";q=40;w=10` }, 'resolvers', at)!);

describe('rate_budget', () => {
  it('nothing to pace before any task saw the headers; the first answer creates the row', () => {
    t = testDb();
    expect(claimRateBudget(t.store, { bucket: 'resolvers', want: 4 })).toBeNull();
    expect(getRateBudget(t.store, 'resolvers')).toBeNull();
    const grant = claimRateBudget(t.store, { bucket: 'resolvers', want: 8, seen: seenAt(t.clock.t, 38, 10), owner: 'task-0' });
    expect(grant).toMatchObject({ granted: 4 });
    expect(getRateBudget(t.store, 'resolvers')).toMatchObject({ bucket: 'resolvers', quota: 40, windowMs: 10_000, used: 6, updatedBy: 'task-0', updatedAt: t.clock.t });
  });

  it('tasks on two connections share one count: never more than quota - margin per window, then the next window', () => {
    t = testDb();
    const other = t.open();
    claimRateBudget(t.store, { bucket: 'resolvers', want: 0, seen: seenAt(t.clock.t, 40, 10) });
    let granted = 0;
    for (let i = 0; i < 40; i++) granted += claimRateBudget(i % 2 ? other : t.store, { bucket: 'resolvers', want: 3 })?.granted ?? 0;
    expect(granted).toBe(40);
    const none = claimRateBudget(other, { bucket: 'resolvers', want: 3 })!;
    expect(none.granted).toBe(0);
    expect(none.retryAt).toBe(t.clock.t + 9500); // the probe's time
    // Another task saw the Hub count more than we claimed (the same token used elsewhere).
    t.clock.t += 10_100;
    expect(claimRateBudget(t.store, { bucket: 'resolvers', want: 8 })).toMatchObject({ granted: 5 });
    claimRateBudget(other, { bucket: 'resolvers', want: 0, seen: seenAt(t.clock.t + 5, 10, 10) });
    expect(getRateBudget(t.store, 'resolvers')?.used).toBe(30);
    expect(claimRateBudget(t.store, { bucket: 'resolvers', want: 8 })).toMatchObject({ granted: 1 });
  });

  it("a task's requests sent without a token are added to the count; an answer's count is a lower bound, never added", () => {
    t = testDb();
    // Three tasks each sent one request before the row existed; answers r=39, r=38, r=37.
    claimRateBudget(t.store, { bucket: 'resolvers', want: 0, seen: seenAt(t.clock.t, 39, 10), unclaimed: 1 });
    expect(getRateBudget(t.store, 'resolvers')?.used).toBe(1);
    claimRateBudget(t.store, { bucket: 'resolvers', want: 0, seen: seenAt(t.clock.t, 38, 10), unclaimed: 1 });
    expect(getRateBudget(t.store, 'resolvers')?.used).toBe(2);
    claimRateBudget(t.store, { bucket: 'resolvers', want: 0, seen: seenAt(t.clock.t, 37, 10), unclaimed: 1 });
    expect(getRateBudget(t.store, 'resolvers')?.used).toBe(3);
    claimRateBudget(t.store, { bucket: 'resolvers', want: 0, unclaimed: 2 });
    expect(getRateBudget(t.store, 'resolvers')?.used).toBe(5);
  });
});

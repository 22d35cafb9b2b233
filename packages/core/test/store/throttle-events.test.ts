import { afterEach, describe, expect, it } from '@jest/globals';
import { appendEvent, getThrottle, pruneEvents, recentEvents, setThrottle } from '../../src/index.js';
import { testDb, type TestDb } from './helpers.js';

let t: TestDb;
afterEach(() => t?.cleanup());

describe('throttle', () => {
  it('only ever extends the pause, and reads null once it has passed', () => {
    t = testDb();
    const now = t.clock.t;
    expect(getThrottle(t.store)).toBeNull();
    expect(setThrottle(t.store, { notBefore: now + 30_000, reason: '429 Retry-After 30', setBy: 'task-1' })).toMatchObject({ notBefore: now + 30_000, setBy: 'task-1' });
    // A shorter pause from another task does not cut the longer one.
    expect(setThrottle(t.store, { notBefore: now + 5_000, reason: '429 short', setBy: 'task-2' })).toMatchObject({ notBefore: now + 30_000, reason: '429 Retry-After 30' });
    expect(setThrottle(t.store, { notBefore: now + 60_000, reason: 'RateLimit t=60', setBy: 'task-3' }).notBefore).toBe(now + 60_000);
    expect(getThrottle(t.store)).toMatchObject({ scope: 'hub', notBefore: now + 60_000, reason: 'RateLimit t=60', setBy: 'task-3' });
    expect(getThrottle(t.store, { scope: 'cdn' })).toBeNull();
    expect(recentEvents(t.store, { kinds: ['throttle'] })).toHaveLength(2);
    t.clock.t = now + 60_000;
    expect(getThrottle(t.store)).toBeNull();
  });
});

describe('events', () => {
  it('returns the newest events oldest-first, tails after an id, filters, and prunes by age', () => {
    t = testDb();
    const ids: number[] = [];
    for (let i = 0; i < 10; i++) {
      t.clock.t += 1000;
      ids.push(appendEvent(t.store, { kind: i % 2 ? 'odd' : 'even', planId: i < 5 ? 1 : 2, detail: { i } }));
    }
    expect(recentEvents(t.store, { limit: 3 }).map((e) => (e.detail as { i: number }).i)).toEqual([7, 8, 9]);
    expect(recentEvents(t.store, { sinceId: ids[6], limit: 2 }).map((e) => e.id)).toEqual([ids[7], ids[8]]);
    expect(recentEvents(t.store, { kinds: ['odd'], planId: 1 }).map((e) => (e.detail as { i: number }).i)).toEqual([1, 3]);
    expect(recentEvents(t.store)[0]).toMatchObject({ kind: 'even', planId: 1, shardId: null, fileId: null, owner: null });
    expect(pruneEvents(t.store, { before: t.clock.t - 4500 })).toBe(5);
    expect(recentEvents(t.store)).toHaveLength(5);
  });
});

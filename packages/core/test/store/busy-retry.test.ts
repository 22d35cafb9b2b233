import { afterEach, describe, expect, it } from '@jest/globals';
import { StateError, busyDelay, isBusyError, withBusyRetry } from '../../src/index.js';
import { testDb, type TestDb } from './helpers.js';

const busy = () => Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });

describe('busyDelay', () => {
  it('is full jitter under an exponential, capped ceiling', () => {
    expect(busyDelay({ attempt: 0, baseMs: 10, random: () => 0.999 })).toBe(9);
    expect(busyDelay({ attempt: 3, baseMs: 10, random: () => 0.5 })).toBe(40);
    expect(busyDelay({ attempt: 40, baseMs: 10, capMs: 1000, random: () => 0.999 })).toBe(999);
    expect(busyDelay({ attempt: 5, random: () => 0 })).toBe(0);
  });
});

describe('withBusyRetry', () => {
  it('recognises the busy and locked codes only', () => {
    expect(isBusyError(busy())).toBe(true);
    expect(isBusyError({ code: 'SQLITE_BUSY_SNAPSHOT' })).toBe(true);
    expect(isBusyError({ code: 'SQLITE_LOCKED' })).toBe(true);
    expect(isBusyError({ code: 'SQLITE_CONSTRAINT' })).toBe(false);
    expect(isBusyError(null)).toBe(false);
  });

  it('retries busy errors and returns the result', () => {
    let calls = 0;
    const sleeps: number[] = [];
    const r = withBusyRetry(
      () => {
        if (++calls < 4) throw busy();
        return 'ok';
      },
      { sleep: (ms) => sleeps.push(ms), random: () => 0.5, baseMs: 10 },
    );
    expect(r).toBe('ok');
    expect(calls).toBe(4);
    expect(sleeps).toEqual([5, 10, 20]);
  });

  it('passes other errors straight through', () => {
    let calls = 0;
    expect(() =>
      withBusyRetry(() => {
        calls++;
        throw new TypeError('bad');
      }),
    ).toThrow(TypeError);
    expect(calls).toBe(1);
  });

  it('gives up with a StateError and a hint once the total time is spent', () => {
    const clock = { t: 0 };
    let calls = 0;
    let err: unknown;
    try {
      withBusyRetry(
        () => {
          calls++;
          throw busy();
        },
        { maxTotalMs: 1000, now: () => clock.t, sleep: (ms) => (clock.t += ms), random: () => 0.99, what: '/x/state.sqlite' },
      );
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StateError);
    expect((err as StateError).message).toContain('/x/state.sqlite');
    expect((err as StateError).hint).toMatch(/hfhpc doctor/);
    expect(clock.t).toBeLessThanOrEqual(1000);
    expect(calls).toBeGreaterThan(3);
  });
});

describe('store.write under a real lock', () => {
  let t: TestDb;
  afterEach(() => t?.cleanup());

  it('retries SQLITE_BUSY from BEGIN IMMEDIATE until the other writer commits', () => {
    t = testDb();
    const holder = t.open();
    let sleeps = 0;
    // busy_timeout 0: SQLite gives up at once, so the retry loop is what waits.
    const waiter = t.open({
      busyTimeoutMs: 0,
      retry: {
        sleep: () => {
          // The other writer finishes while we back off.
          if (++sleeps === 2) holder.db.exec('COMMIT');
        },
      },
    });
    holder.db.exec('BEGIN IMMEDIATE');
    holder.db.prepare("INSERT INTO throttle VALUES ('first', 1, NULL, 1, NULL)").run();
    waiter.write((db) => db.prepare("INSERT INTO throttle VALUES ('second', 2, NULL, 2, NULL)").run());
    expect(sleeps).toBe(2);
    expect(t.store.db.prepare('SELECT scope FROM throttle ORDER BY not_before').pluck().all()).toEqual(['first', 'second']);
  });

  it('raises StateError, not SQLITE_BUSY, when the lock is never released', () => {
    t = testDb();
    const holder = t.open();
    const waiter = t.open({ busyTimeoutMs: 0, busyRetryMs: 50, retry: { sleep: () => {}, random: () => 0.99 } });
    holder.db.exec('BEGIN IMMEDIATE');
    let err: unknown;
    try {
      waiter.write((db) => db.prepare("INSERT INTO throttle VALUES ('x', 1, NULL, 1, NULL)").run());
    } catch (e) {
      err = e;
    }
    holder.db.exec('ROLLBACK');
    expect(err).toBeInstanceOf(StateError);
    expect((err as StateError).cause).toMatchObject({ code: 'SQLITE_BUSY' });
  });
});

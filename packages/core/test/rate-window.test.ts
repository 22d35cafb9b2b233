import { describe, expect, it } from '@jest/globals';
import { defaultRateGuards, grantTokens, mergeWindow, rateSampleOf, rollWindow, windowOfSample, type RateWindow } from '../src/index.js';

const T0 = 1_700_000_000_000;
const headers = (r: number, t: number, q = 40, w = 10) => ({
  ratelimit: `"resolvers";r=${r};t=${t}`,
  'ratelimit-policy': `"fixed window";"resolvers";q=${q};w=${w}`,
});
const sampleWindow = (r: number, t: number, at: number, q = 40, w = 10): RateWindow => windowOfSample(rateSampleOf(headers(r, t, q, w), 'resolvers', at)!);

describe('rateSampleOf', () => {
  it('reads the bucket from RateLimit and RateLimit-Policy; undefined when either is missing or another bucket', () => {
    expect(rateSampleOf(headers(12, 7), 'resolvers', T0)).toEqual({ bucket: 'resolvers', quota: 40, windowMs: 10_000, remaining: 12, resetSeconds: 7, at: T0 });
    expect(rateSampleOf({ ratelimit: '"resolvers";r=1;t=2' }, 'resolvers', T0)).toBeUndefined();
    expect(rateSampleOf({ 'ratelimit-policy': '"fixed window";"resolvers";q=40;w=10' }, 'resolvers', T0)).toBeUndefined();
    expect(rateSampleOf({ ratelimit: '"api";r=1;t=2', 'ratelimit-policy': '"fixed window";"api";q=40;w=10' }, 'resolvers', T0)).toBeUndefined();
    expect(rateSampleOf(undefined, 'resolvers', T0)).toBeUndefined();
    // An unnamed item is the bucket asked about.
    expect(rateSampleOf({ RateLimit: 'r=3;t=4', 'RateLimit-Policy': 'q=5;w=6' }, 'resolvers', T0)).toMatchObject({ remaining: 3, resetSeconds: 4, quota: 5, windowMs: 6000 });
  });
});

describe('windowOfSample / mergeWindow', () => {
  it('a sample places the reset in (at + t - 1 s, at + t s] and counts quota - r as used', () => {
    expect(sampleWindow(30, 7, T0)).toEqual({ quota: 40, windowMs: 10_000, resetLo: T0 + 6000, resetHi: T0 + 7000, used: 10, startedAt: T0, observedAt: T0, probedAt: 0 });
  });

  it('answers about one window narrow the reset and keep the larger count', () => {
    // Reset really at T0 + 6400: t rounds up.
    const a = sampleWindow(30, 7, T0); // (T0+6000, T0+7000]
    const b = sampleWindow(25, 6, T0 + 600); // (T0+5600, T0+6600]
    const m = mergeWindow(mergeWindow(a, b), sampleWindow(24, 4, T0 + 2500)); // (T0+5500, T0+6500]
    expect(m).toMatchObject({ resetLo: T0 + 6000, resetHi: T0 + 6500, used: 16, startedAt: T0, observedAt: T0 + 2500 });
  });

  it('contradicting answers about one window: the newest interval is kept', () => {
    const m = mergeWindow(sampleWindow(30, 7, T0), sampleWindow(29, 5, T0 + 100)); // (T0+4100, T0+5100] does not meet (T0+6000, T0+7000]
    expect(m).toMatchObject({ resetLo: T0 + 4100, resetHi: T0 + 5100, used: 11 });
  });

  it('a later window replaces the state; an earlier one only when seen after the state began', () => {
    const cur = sampleWindow(0, 1, T0); // resets by T0 + 1000
    const next = sampleWindow(39, 10, T0 + 1200);
    // Narrowed by the old window's interval moved by one window: (T0+10200, T0+11000].
    const merged = mergeWindow(cur, next);
    expect(merged).toEqual({ ...next, resetHi: T0 + 11_000 });
    const rolled = rollWindow(merged, T0 + 11_400); // rolled past T0 + 11000 + 100 ms guard
    expect(rolled).toMatchObject({ used: 0, resetHi: T0 + 21_000, startedAt: T0 + 11_100 });
    // An answer from before the roll-over, about the old window: stale, dropped.
    expect(mergeWindow(rolled, sampleWindow(2, 1, T0 + 11_000))).toEqual(rolled);
    // An answer after the roll-over that still names the old window: the roll-over came too soon.
    const late = sampleWindow(0, 1, T0 + 11_350);
    expect(mergeWindow(rolled, late)).toEqual(late);
  });
});

describe('rollWindow / grantTokens', () => {
  const g = defaultRateGuards({ quota: 40, windowMs: 10_000 });

  it('default guards: 1% margin (none below 100), 5% of the window (250 ms…1 s) to reach the server, 1% of the window (at most 1 s) after the reset', () => {
    expect(g).toEqual({ margin: 0, sendGuardMs: 500, rolloverGuardMs: 100 });
    expect(defaultRateGuards({ quota: 150, windowMs: 2_000 })).toEqual({ margin: 1, sendGuardMs: 250, rolloverGuardMs: 20 });
    expect(defaultRateGuards({ quota: 5000, windowMs: 300_000 })).toEqual({ margin: 50, sendGuardMs: 1000, rolloverGuardMs: 1000 });
  });

  it('hands out at most an eighth of what is left per claim, never past quota - margin', () => {
    let w = sampleWindow(40, 10, T0);
    const sizes: number[] = [];
    for (;;) {
      const grant = grantTokens(w, { now: T0 + 10, want: 8 });
      if (!grant.granted) {
        // Asked again at the middle of the reset interval (the probe's time).
        expect(grant.retryAt).toBe((w.resetLo + w.resetHi) / 2);
        break;
      }
      expect(grant.validUntil).toBe(w.resetLo - g.sendGuardMs);
      sizes.push(grant.granted);
      w = grant.window;
    }
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(40);
    expect(sizes[0]).toBe(5);
    expect(sizes.at(-1)).toBe(1);
    expect(grantTokens(sampleWindow(40, 10, T0), { now: T0, want: 1 }).granted).toBe(1);
  });

  it('between the windows only the probe, at the middle of the reset interval; then a fresh window', () => {
    const w = sampleWindow(20, 5, T0); // (T0+4000, T0+5000]
    expect(grantTokens(w, { now: T0 + 3499, want: 4 }).granted).toBe(2);
    expect(grantTokens(w, { now: T0 + 3500, want: 4 })).toMatchObject({ granted: 0, retryAt: T0 + 4500 });
    const probe = grantTokens(w, { now: T0 + 4500, want: 4 });
    expect(probe).toMatchObject({ granted: 1, retryAt: T0 + 4500 });
    expect(probe.window).toMatchObject({ used: 21, probedAt: T0 + 4500 });
    // The others ask again just after the probe's answer, then at the latest reset.
    expect(grantTokens(probe.window, { now: T0 + 4510, want: 4 })).toMatchObject({ granted: 0, retryAt: T0 + 4750 });
    expect(grantTokens(probe.window, { now: T0 + 4800, want: 4 })).toMatchObject({ granted: 0, retryAt: T0 + 5100 });
    const fresh = grantTokens(probe.window, { now: T0 + 5100, want: 8 });
    expect(fresh).toMatchObject({ granted: 5, validUntil: T0 + 13_500 });
    expect(fresh.window).toMatchObject({ used: 5, resetLo: T0 + 14_000, resetHi: T0 + 15_000 });
    // Several windows later: rolled by whole windows.
    expect(rollWindow(w, T0 + 37_000)).toMatchObject({ used: 0, resetHi: T0 + 45_000 });
  });

  it("the probe's answer halves the reset interval, and the halves carry over to the next windows", () => {
    const w = sampleWindow(1, 5, T0); // (T0+4000, T0+5000], reset really at T0+4700
    const probe = grantTokens(w, { now: T0 + 4500, want: 1 });
    // Before the reset: the old window, t=1.
    const before = mergeWindow(probe.window, sampleWindow(0, 1, T0 + 4500));
    expect(before).toMatchObject({ resetLo: T0 + 4500, resetHi: T0 + 5000 });
    // The next window's first answers narrow nothing by themselves ((T0+14100, T0+15100]); the
    // carried interval keeps (T0+14500, T0+15000].
    const next = mergeWindow(before, sampleWindow(39, 10, T0 + 5100));
    expect(next).toMatchObject({ resetLo: T0 + 14_500, resetHi: T0 + 15_000, used: 1 });
    // A probe after the reset: the new window (t=10) pulls the upper bound in.
    const after = mergeWindow(next, sampleWindow(39, 10, T0 + 14_750));
    expect(after).toMatchObject({ resetLo: T0 + 24_500, resetHi: T0 + 24_750, used: 1 });
    // No probe when the old window has nothing left (a 429 said r=0).
    expect(grantTokens(mergeWindow(w, sampleWindow(0, 5, T0 + 10)), { now: T0 + 4505, want: 1 })).toMatchObject({ granted: 0, retryAt: T0 + 5100 });
  });

  it('a 429 answer (r=0) stops the claims until its reset', () => {
    const w = mergeWindow(sampleWindow(30, 7, T0), sampleWindow(0, 7, T0 + 50));
    expect(grantTokens(w, { now: T0 + 60, want: 8 })).toMatchObject({ granted: 0, retryAt: T0 + 6525 });
    expect(grantTokens(w, { now: T0 + 6525, want: 8 })).toMatchObject({ granted: 0, retryAt: T0 + 7100 });
  });
});

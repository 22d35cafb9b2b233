import { describe, expect, it } from '@jest/globals';
import { InternalError, parseRetryAfter, retryDelay } from '../src/index.js';

describe('retryDelay', () => {
  it('draws uniformly from an exponential window (full jitter)', () => {
    // random() = 0.999… shows the top of each window: base * 2^(attempt-1).
    const top = (attempt: number) => retryDelay({ attempt, baseMs: 1000, capMs: 60_000, random: () => 0.999999 });
    expect([1, 2, 3, 4, 5].map(top)).toEqual([999, 1999, 3999, 7999, 15_999]);
    expect(retryDelay({ attempt: 3, random: () => 0 })).toBe(0);
    expect(retryDelay({ attempt: 3, random: () => 0.5 })).toBe(2000);
  });

  it('caps the window, even for huge attempt counts', () => {
    expect(retryDelay({ attempt: 7, capMs: 60_000, random: () => 0.5 })).toBe(30_000);
    expect(retryDelay({ attempt: 5000, capMs: 60_000, random: () => 0.5 })).toBe(30_000);
  });

  it('honours a server-given delay, never shorter, with a little jitter on top', () => {
    expect(retryDelay({ attempt: 1, retryAfterMs: 42_000, random: () => 0 })).toBe(42_000);
    expect(retryDelay({ attempt: 1, retryAfterMs: 42_000, baseMs: 1000, random: () => 0.5 })).toBe(42_500);
    // Above the cap: the server knows its window.
    expect(retryDelay({ attempt: 9, retryAfterMs: 300_000, capMs: 60_000, random: () => 0 })).toBe(300_000);
  });

  it('refuses nonsense parameters with what was expected and what came', () => {
    expect(() => retryDelay({ attempt: 0 })).toThrow(InternalError);
    expect(() => retryDelay({ attempt: 1.5 })).toThrow('Expected `attempt` to be a positive integer, got `1.5` (number)');
    expect(() => retryDelay({ attempt: 1, baseMs: -1 })).toThrow('baseMs');
    expect(() => retryDelay({ attempt: 1, retryAfterMs: Number.NaN })).toThrow('retryAfterMs');
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-11-28T13:00:00Z');

  it('reads delta-seconds', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter(['7'], now)).toBe(7000);
  });

  it('reads HTTP-dates relative to now, past dates as 0', () => {
    expect(parseRetryAfter('Sat, 28 Nov 2026 13:00:42 GMT', now)).toBe(42_000);
    expect(parseRetryAfter('Sat, 28 Nov 2026 12:00:00 GMT', now)).toBe(0);
  });

  it('says "no hint" for missing or junk values', () => {
    for (const v of [undefined, '', '-5', '1.5', 'soon', []]) expect(parseRetryAfter(v, now)).toBeUndefined();
    expect(parseRetryAfter(['junk', '3'], now)).toBe(3000);
  });
});

import { describe, expect, it } from '@jest/globals';
import { headerValues, parseRateLimit, parseRateLimitPolicy, rateLimitWaitMs } from '../src/index.js';

describe('RateLimit headers', () => {
  it('parse the Hub RateLimit form', () => {
    expect(parseRateLimit('"api";r=0;t=42')).toEqual([{ name: 'api', remaining: 0, resetSeconds: 42, params: { r: '0', t: '42' } }]);
    const two = parseRateLimit(['"api";r=12;t=3', '"resolvers";r=0;t=200']);
    expect(two.map((i) => [i.name, i.remaining, i.resetSeconds])).toEqual([['api', 12, 3], ['resolvers', 0, 200]]);
    expect(parseRateLimit('"a";r=1;t=2, "b";r=0;t=9').map((i) => i.name)).toEqual(['a', 'b']);
  });

  it('parse the Hub RateLimit-Policy form (not a strict structured field)', () => {
    expect(parseRateLimitPolicy('"fixed window";"api";q=1000;w=300')).toEqual([
      { names: ['fixed window', 'api'], quota: 1000, windowSeconds: 300, params: { q: '1000', w: '300' } },
    ]);
  });

  it('skip malformed parts instead of throwing', () => {
    expect(parseRateLimit(undefined)).toEqual([]);
    expect(parseRateLimit(';;,')).toEqual([]);
    expect(parseRateLimit('"api";r=lots;t=-1')).toEqual([{ name: 'api', remaining: undefined, resetSeconds: undefined, params: { r: 'lots', t: '-1' } }]);
    expect(parseRateLimit('"a,b";r=0;t=5')[0]?.name).toBe('a,b');
  });

  it('look headers up case-insensitively, keeping repeats', () => {
    expect(headerValues({ 'Retry-After': '3', 'retry-after': ['4'] }, 'retry-after')).toEqual(['3', '4']);
  });
});

describe('rateLimitWaitMs', () => {
  const now = Date.parse('2026-11-28T13:00:00Z');

  it('uses t of an exhausted quota', () => {
    expect(rateLimitWaitMs({ headers: { ratelimit: '"api";r=0;t=42' }, now })).toBe(42_000);
  });

  it('ignores t while requests remain', () => {
    expect(rateLimitWaitMs({ headers: { ratelimit: '"api";r=5;t=42' }, now })).toBeUndefined();
  });

  it('takes the longest of Retry-After (seconds or date) and RateLimit', () => {
    expect(rateLimitWaitMs({ headers: { 'retry-after': '10', ratelimit: '"api";r=0;t=3' }, now })).toBe(10_000);
    expect(rateLimitWaitMs({ headers: { 'retry-after': 'Sat, 28 Nov 2026 13:01:00 GMT', ratelimit: '"api";r=0;t=3' }, now })).toBe(60_000);
  });

  it('is undefined without a hint', () => {
    expect(rateLimitWaitMs({ headers: {}, now })).toBeUndefined();
    expect(rateLimitWaitMs({ headers: undefined, now })).toBeUndefined();
  });
});

// Per-connection bandwidth cap (connRate) and the resolve budget with the Hub's rate-limit
// headers (resolveBudget, rateLimitHeaders), and the counters in stats().
import { describe, expect, it } from '@jest/globals';
import { startFakeHub, type FakeHub } from '../src/index.js';
import { ALICE, BOB, raw, startTestHub } from './helpers.js';

const MB = 1_000_000;

async function cdnLocation(hub: FakeHub, file: string): Promise<string> {
  const r = await raw(`${hub.hubUrl}/datasets/capped/data/resolve/main/${file}`);
  expect(r.status).toBe(302);
  return String(r.headers.location);
}

/** Counters move on each connection's 'close', just after the answer: wait for them (bounded). */
async function statsWhen(hub: FakeHub, done: (s: ReturnType<FakeHub['stats']>) => boolean) {
  for (let i = 0; i < 250 && !done(hub.stats()); i++) await new Promise((r) => setTimeout(r, 20));
  return hub.stats();
}

/** GET with an optional Range; resolves with the answer and the seconds it took. */
async function timed(url: string, range?: string) {
  const began = performance.now();
  const answer = await raw(url, range ? { headers: { Range: range } } : {});
  return { answer, seconds: (performance.now() - began) / 1000 };
}

describe('connRate: each CDN connection is capped', () => {
  it('holds one connection to the cap, and gives each of several ranged connections the cap', async () => {
    const hub = await startFakeHub({
      config: { repos: [{ id: 'capped/data', files: [{ path: 'big.bin', size: 4 * MB, lfs: true, seed: 3 }] }] },
      hashCacheDir: false,
      connRate: 2 * MB,
    });
    try {
      const url = await cdnLocation(hub, 'big.bin');
      // One connection: 4 MB at 2 MB/s is about 2 s.
      const one = await timed(url);
      expect(one.answer.status).toBe(200);
      expect(one.answer.body.equals(hub.readFile('capped/data', 'big.bin'))).toBe(true);
      expect(one.seconds).toBeGreaterThanOrEqual(1.5);
      // Two ranged connections of 2 MB each, at once: each is held to the cap (about 1 s), and
      // together they finish well before one connection moves 4 MB (a shared cap would need 2 s).
      const began = performance.now();
      const [a, b] = await Promise.all([timed(url, 'bytes=0-1999999'), timed(url, 'bytes=2000000-3999999')]);
      const both = (performance.now() - began) / 1000;
      expect([a.answer.status, b.answer.status]).toEqual([206, 206]);
      expect(Buffer.concat([a.answer.body, b.answer.body]).equals(hub.readFile('capped/data', 'big.bin'))).toBe(true);
      expect(a.seconds).toBeGreaterThanOrEqual(0.75);
      expect(b.seconds).toBeGreaterThanOrEqual(0.75);
      expect(both).toBeLessThan(one.seconds * 0.9);
      expect(await statsWhen(hub, (s) => s.cdnRequests >= 3)).toMatchObject({ cdnRequests: 3, cdnBytesSent: 8 * MB, resolvesServed: 1, resolvesLimited: 0 });
    } finally {
      await hub.stop();
    }
  }, 60_000);

  it('refuses a rate that is not a positive number', async () => {
    await expect(startTestHub({ connRate: 0 })).rejects.toThrow(/connRate/);
    await expect(startTestHub({ resolveBudget: { limit: 3, windowSeconds: 0 } })).rejects.toThrow(/resolveBudget/);
  });
});

describe('resolveBudget: a fixed window on resolves, with the rate-limit headers', () => {
  const resolveUrl = (hub: FakeHub) => `${hub.hubUrl}/datasets/bigcode/demo/resolve/main/README.md`;
  const as = (token: string) => ({ headers: { Authorization: `Bearer ${token}` } });

  it('counts down r, tells the seconds to the reset, answers 429 + Retry-After once spent, and opens a new window', async () => {
    let clock = 1_000_000 * 10_000 + 2_000; // 2 s into a 10 s window (windows are aligned on the epoch)
    const hub = await startTestHub({ now: () => clock, resolveBudget: { limit: 3, windowSeconds: 10 } });
    try {
      const seen: Array<[number, unknown, unknown]> = [];
      for (let i = 0; i < 4; i++) {
        const r = await raw(resolveUrl(hub), as(ALICE));
        seen.push([r.status, r.headers.ratelimit, r.headers['retry-after']]);
        expect(r.headers['ratelimit-policy']).toBe('"fixed window";"resolvers";q=3;w=10');
      }
      expect(seen).toEqual([
        [200, '"resolvers";r=2;t=8', undefined],
        [200, '"resolvers";r=1;t=8', undefined],
        [200, '"resolvers";r=0;t=8', undefined],
        [429, '"resolvers";r=0;t=8', '8'],
      ]);
      // Another token has its own budget; the API endpoints keep theirs.
      expect((await raw(resolveUrl(hub), as(BOB))).status).toBe(200);
      const api = await raw(`${hub.hubUrl}/api/datasets/bigcode/demo`, as(ALICE));
      expect(api.status).toBe(200);
      expect(api.headers['ratelimit-policy']).toBe('"fixed window";"api";q=1000;w=300');
      clock += 5_500; // 7.5 s into the window: 3 s left (rounded up)
      const late = await raw(resolveUrl(hub), as(ALICE));
      expect([late.status, late.headers.ratelimit, late.headers['retry-after']]).toEqual([429, '"resolvers";r=0;t=3', '3']);
      clock += 3_000; // the next window
      const fresh = await raw(resolveUrl(hub), as(ALICE));
      expect([fresh.status, fresh.headers.ratelimit]).toEqual([200, '"resolvers";r=2;t=10']);
      expect(await statsWhen(hub, (s) => s.resolvesServed + s.resolvesLimited >= 7)).toMatchObject({ resolvesServed: 5, resolvesLimited: 2 });
    } finally {
      await hub.stop();
    }
  });

  it('rateLimitHeaders false: no RateLimit headers anywhere, a 429 carries Retry-After only', async () => {
    const clock = 1_000_000 * 10_000 + 4_000;
    const hub = await startTestHub({ now: () => clock, resolveBudget: { limit: 1, windowSeconds: 10 }, rateLimitHeaders: false });
    try {
      const ok = await raw(resolveUrl(hub), as(ALICE));
      expect(ok.status).toBe(200);
      expect(ok.headers.ratelimit).toBeUndefined();
      expect(ok.headers['ratelimit-policy']).toBeUndefined();
      const limited = await raw(resolveUrl(hub), as(ALICE));
      expect(limited.status).toBe(429);
      expect(limited.headers['retry-after']).toBe('6');
      expect(limited.headers.ratelimit).toBeUndefined();
      expect(limited.headers['ratelimit-policy']).toBeUndefined();
      expect((await raw(`${hub.hubUrl}/api/datasets/bigcode/demo`)).headers.ratelimit).toBeUndefined();
    } finally {
      await hub.stop();
    }
  });
});

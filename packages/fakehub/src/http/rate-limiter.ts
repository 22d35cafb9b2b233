// The Hub's per-window budgets (api / resolvers), per token or per anonymous client, and
// the IETF-draft `RateLimit` / `RateLimit-Policy` headers it puts on every answer.
import type { RateLimitOptions, ResolveBudget } from '../types.js';

export type Bucket = 'api' | 'resolvers';

export interface RateLimitState {
  bucket: Bucket;
  limit: number;
  remaining: number;
  /** Seconds until the window resets. */
  resetSeconds: number;
  windowSeconds: number;
  exceeded: boolean;
}

export class RateLimiter {
  private readonly counts = new Map<string, { windowIndex: number; used: number }>();
  private readonly o: Required<Omit<RateLimitOptions, 'headers'>>;

  constructor(
    options: RateLimitOptions = {},
    private readonly now: () => number = Date.now,
    private readonly resolveBudget?: ResolveBudget,
  ) {
    this.o = {
      windowSeconds: options.windowSeconds ?? 300,
      api: options.api ?? 1000,
      anonymousApi: options.anonymousApi ?? 500,
      resolvers: options.resolvers ?? 5000,
      anonymousResolvers: options.anonymousResolvers ?? 3000,
      enforce: options.enforce ?? false,
    };
  }

  /** Whether a spent budget of this bucket answers 429. */
  enforces(bucket: Bucket): boolean {
    return this.o.enforce || (bucket === 'resolvers' && this.resolveBudget !== undefined);
  }

  /** Count one request of `who` (a token or "anon:<address>") against its bucket. */
  take(params: { bucket: Bucket; who: string; anonymous: boolean }): RateLimitState {
    const { bucket, who, anonymous } = params;
    const budget = bucket === 'resolvers' ? this.resolveBudget : undefined;
    const windowSeconds = budget?.windowSeconds ?? this.o.windowSeconds;
    const nowSeconds = this.now() / 1000;
    const windowIndex = Math.floor(nowSeconds / windowSeconds); // fixed windows aligned on the epoch
    const key = `${bucket}\0${who}`;
    let c = this.counts.get(key);
    if (!c || c.windowIndex !== windowIndex) this.counts.set(key, (c = { windowIndex, used: 0 }));
    c.used++;
    const limit = budget?.limit ?? (bucket === 'api' ? (anonymous ? this.o.anonymousApi : this.o.api) : anonymous ? this.o.anonymousResolvers : this.o.resolvers);
    return {
      bucket,
      limit,
      remaining: Math.max(0, limit - c.used),
      resetSeconds: Math.max(1, Math.ceil((windowIndex + 1) * windowSeconds - nowSeconds)),
      windowSeconds,
      exceeded: c.used > limit,
    };
  }
}

/** Header values for a state (or a forced `r=0;t=reset` on a 429 fault). */
export function rateLimitHeaders(s: { bucket: Bucket; limit: number; remaining: number; resetSeconds: number; windowSeconds: number }): Record<string, string> {
  return {
    RateLimit: `"${s.bucket}";r=${s.remaining};t=${s.resetSeconds}`,
    'RateLimit-Policy': `"fixed window";"${s.bucket}";q=${s.limit};w=${s.windowSeconds}`,
  };
}

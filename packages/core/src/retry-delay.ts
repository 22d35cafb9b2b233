// The wait before a retry: one small pure function (got/rclone style), so every caller backs
// off the same way and tests can pin the randomness.
import { InternalError } from './errors.js';

export interface RetryDelayParams {
  /** How many attempts have failed so far (1 = the wait after the first failure). Integer ≥ 1. */
  attempt: number;
  /** Base of the exponential window. Default 1000 ms. */
  baseMs?: number;
  /** Largest window, however many attempts failed. Default 60 000 ms. */
  capMs?: number;
  /** Uniform random source in [0, 1). Default `Math.random`. */
  random?: () => number;
  /**
   * A delay the server asked for (Retry-After, RateLimit `t`). When set it wins over the
   * backoff window and is never shortened (nor capped: the server knows its window).
   */
  retryAfterMs?: number;
}

/**
 * Milliseconds to wait before the next attempt.
 *
 * Without a server delay: "full jitter" exponential backoff, uniform in
 * `[0, min(capMs, baseMs * 2^(attempt-1)))`, which spreads a thousand array tasks that failed
 * together instead of making them retry in lock-step.
 * With `retryAfterMs`: that delay plus up to `min(baseMs, capMs)` of jitter, for the same reason.
 */
export function retryDelay(params: RetryDelayParams): number {
  const { attempt, baseMs = 1000, capMs = 60_000, random = Math.random, retryAfterMs } = params;
  expect('attempt', attempt, Number.isInteger(attempt) && attempt >= 1, 'a positive integer');
  expect('baseMs', baseMs, Number.isFinite(baseMs) && baseMs >= 0, 'a non-negative number');
  expect('capMs', capMs, Number.isFinite(capMs) && capMs >= 0, 'a non-negative number');
  if (retryAfterMs !== undefined) {
    expect('retryAfterMs', retryAfterMs, Number.isFinite(retryAfterMs) && retryAfterMs >= 0, 'a non-negative number');
    return Math.ceil(retryAfterMs + random() * Math.min(baseMs, capMs));
  }
  // 2 ** 1024 is Infinity; Math.min then yields capMs, so large attempts stay well defined.
  const windowMs = Math.min(capMs, baseMs * 2 ** (attempt - 1));
  return Math.floor(random() * windowMs);
}

/**
 * Parse an HTTP `Retry-After` value into milliseconds from `now`: delta-seconds (`"120"`) or an
 * HTTP-date (`"Wed, 21 Oct 2026 07:28:00 GMT"`). A date in the past gives 0. Anything else
 * (missing, empty, negative, junk) gives `undefined`, meaning "the server did not say".
 * With several values (repeated header) the first valid one is used.
 */
export function parseRetryAfter(value: string | readonly string[] | undefined, now: number = Date.now()): number | undefined {
  const values = value === undefined ? [] : typeof value === 'string' ? [value] : value;
  for (const raw of values) {
    const v = raw.trim();
    if (/^\d+$/.test(v)) return Number(v) * 1000;
    // Only date-looking values: Date.parse also accepts bare numbers like "-5" or "1.5".
    if (/[a-z]/i.test(v)) {
      const at = Date.parse(v);
      if (!Number.isNaN(at)) return Math.max(0, at - now);
    }
  }
  return undefined;
}

function expect(name: string, value: unknown, ok: boolean, what: string): void {
  if (!ok) throw new InternalError(`Expected \`${name}\` to be ${what}, got \`${String(value)}\` (${typeof value})`);
}

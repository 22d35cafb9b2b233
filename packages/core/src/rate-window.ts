// The arithmetic of pacing to a fixed-window request budget (the Hub's `RateLimit` /
// `RateLimit-Policy` headers), pure: a window state in, a window state and a decision out. The
// store keeps one such state per bucket, shared by every task of the array, and runs these
// functions inside its write transaction (`store/rate-budget.ts`).
//
// Model. The server counts requests per fixed window of `windowMs`; an answer says `r` requests
// are left and the window resets in `t` whole seconds, taken as rounded up (a client that waits
// `t` never comes back early), so the reset lies in (at + (t-1) s, at + t s]. Every answer
// narrows that interval (`resetLo`, `resetHi`). Tasks do not space their requests: they claim
// tokens from the shared count (`used`) while it stays below quota - margin, then wait for the
// window to reset. A token is spent before `resetLo` (so it is counted in the window it was
// claimed from); the next window's tokens are handed out from `resetHi` on (so they are counted
// in the next one). The count is exact for the array's own requests; the headers add what
// others spent with the same token (`used` never drops below quota - r) and correct the window.
// Windows are fixed, so the interval carries over to the next window; one request sent at its
// middle (the "probe", when the old window has one left) learns on which side the reset lies
// and halves it, so the idle time between windows shrinks window after window.
import type { HttpHeaders } from './rate-limit-headers.js';
import { headerValues, parseRateLimit, parseRateLimitPolicy } from './rate-limit-headers.js';

/** One bucket's window as the array knows it. Times are ms since the epoch. */
export interface RateWindow {
  /** Requests allowed per window (`q`). */
  quota: number;
  /** Window length (`w`, in ms). */
  windowMs: number;
  /** The window resets after this time… */
  resetLo: number;
  /** …and at the latest at this time. */
  resetHi: number;
  /** Requests counted against this window: tokens handed out, or what the server said was used, whichever is more. */
  used: number;
  /** Since when this state describes this window (its first observation, or the roll-over). */
  startedAt: number;
  /** The newest observation merged into it. */
  observedAt: number;
  /** When the last probe token was handed out (0: never). */
  probedAt: number;
}

/** What one answer said about one bucket. */
export interface RateSample {
  bucket: string;
  quota: number;
  windowMs: number;
  remaining: number;
  /** `t`, in seconds. */
  resetSeconds: number;
  /** When the answer arrived (ms since the epoch). */
  at: number;
}

/**
 * The sample of `bucket` in an answer's headers, or undefined when the answer does not state
 * both the remaining budget (`RateLimit` r and t) and the policy (`RateLimit-Policy` q and w)
 * for it. An item without a name counts as the bucket asked about.
 */
export function rateSampleOf(headers: HttpHeaders | undefined, bucket: string, at: number): RateSample | undefined {
  const limit = parseRateLimit(headerValues(headers, 'ratelimit')).find((i) => i.name === bucket || i.name === undefined);
  const policy = parseRateLimitPolicy(headerValues(headers, 'ratelimit-policy')).find((p) => p.names.includes(bucket) || p.names.length <= 1);
  if (limit?.remaining === undefined || limit.resetSeconds === undefined) return undefined;
  if (!policy?.quota || !policy.windowSeconds) return undefined;
  return { bucket, quota: policy.quota, windowMs: policy.windowSeconds * 1000, remaining: limit.remaining, resetSeconds: limit.resetSeconds, at };
}

/** The window one sample describes. */
export function windowOfSample(s: RateSample): RateWindow {
  const resetHi = s.at + Math.round(s.resetSeconds * 1000);
  return {
    quota: s.quota,
    windowMs: s.windowMs,
    resetLo: Math.max(s.at, resetHi - 1000),
    resetHi,
    used: Math.max(0, s.quota - s.remaining),
    startedAt: s.at,
    observedAt: s.at,
    probedAt: 0,
  };
}

/**
 * Merge what an answer said (`seen`, from `windowOfSample` or another task's merged state) into
 * the shared state. The same window (resets within half a window of each other): the reset
 * interval narrows, `used` takes the larger count. A later window replaces an earlier one, its
 * reset interval narrowed by the earlier one's moved by whole windows. An earlier window
 * replaces the state only when it was observed after the state began (the roll-over came too
 * soon: the server still counts the old window); older news is dropped.
 */
export function mergeWindow(cur: RateWindow | null | undefined, seen: RateWindow): RateWindow {
  if (!cur) return seen;
  const w = Math.min(cur.windowMs, seen.windowMs);
  const windows = Math.round((seen.resetHi - cur.resetHi) / w);
  const newer = seen.observedAt >= cur.observedAt ? seen : cur;
  if (windows === 0) {
    return {
      quota: newer.quota,
      windowMs: newer.windowMs,
      ...narrowed(cur, seen, newer),
      used: Math.max(cur.used, seen.used),
      startedAt: Math.min(cur.startedAt, seen.startedAt),
      observedAt: Math.max(cur.observedAt, seen.observedAt),
      probedAt: Math.max(cur.probedAt, seen.probedAt),
    };
  }
  if (windows > 0) {
    const moved = { resetLo: cur.resetLo + windows * cur.windowMs, resetHi: cur.resetHi + windows * cur.windowMs };
    return { ...seen, ...narrowed(moved, seen, seen), probedAt: Math.max(cur.probedAt, seen.probedAt) };
  }
  return seen.observedAt >= cur.startedAt ? seen : cur;
}

/** The intersection of two reset intervals; when they do not meet (another rounding, a window the server moved), the newest answer's. */
function narrowed(a: Pick<RateWindow, 'resetLo' | 'resetHi'>, b: Pick<RateWindow, 'resetLo' | 'resetHi'>, newest: Pick<RateWindow, 'resetLo' | 'resetHi'>): Pick<RateWindow, 'resetLo' | 'resetHi'> {
  const resetLo = Math.max(a.resetLo, b.resetLo);
  const resetHi = Math.min(a.resetHi, b.resetHi);
  return resetLo <= resetHi ? { resetLo, resetHi } : { resetLo: newest.resetLo, resetHi: newest.resetHi };
}

export interface RateGuards {
  /** Requests left unclaimed per window for others using the same token and for answers still on their way. */
  margin: number;
  /** A token is spent at least this long before the earliest reset (the request must reach the server in its window). */
  sendGuardMs: number;
  /** The next window's tokens are handed out this long after the latest reset. */
  rolloverGuardMs: number;
}

/**
 * Default guards for a policy: a margin of 1% of the quota (none below 100: the array's own
 * count is exact, and with a small quota one request is a large share of the window); 5% of the
 * window, from 250 ms to 1 s, for a token to reach the server (a loaded node's event loop and
 * scheduler delay a request by more than the network does); and 1% of the window (at most 1 s)
 * past the latest reset, which also covers a server that rounds `t` down when its window is
 * 100 s or longer.
 */
export function defaultRateGuards(w: Pick<RateWindow, 'quota' | 'windowMs'>): RateGuards {
  return {
    margin: Math.floor(w.quota / 100),
    sendGuardMs: Math.max(250, Math.min(1000, Math.round(w.windowMs / 20))),
    rolloverGuardMs: Math.min(1000, Math.round(w.windowMs / 100)),
  };
}

/** The state at `now`: rolled over (count back to 0, reset moved by whole windows) once the latest reset plus the guard passed. */
export function rollWindow(w: RateWindow, now: number, guards: RateGuards = defaultRateGuards(w)): RateWindow {
  const from = w.resetHi + guards.rolloverGuardMs;
  if (now < from || w.windowMs <= 0) return w;
  const k = Math.floor((now - from) / w.windowMs) + 1;
  const shift = k * w.windowMs;
  return { ...w, resetLo: w.resetLo + shift, resetHi: w.resetHi + shift, used: 0, startedAt: from + shift - w.windowMs };
}

export interface RateGrant {
  /** The state after the claim (roll-over applied, `used` raised by `granted`). */
  window: RateWindow;
  /** Tokens handed out: each allows one request before `validUntil`. */
  granted: number;
  validUntil: number;
  /** When nothing was granted: when to ask again. */
  retryAt: number;
}

/**
 * Claim up to `want` tokens at `now`. At most an eighth of what is left goes to one claim (at
 * least 1), so the tasks of an array share the window's tail instead of one task hoarding it.
 * Between the windows (from `resetLo` - send guard to `resetHi` + roll-over guard) one token,
 * the probe, goes out at the middle of the reset interval, if the old window has one left;
 * the others are told to ask again just after it, in case its answer opened the next window.
 */
export function grantTokens(w: RateWindow, params: { now: number; want: number; guards?: RateGuards }): RateGrant {
  const { now, want } = params;
  const guards = params.guards ?? defaultRateGuards(w);
  const cur = rollWindow(w, now, guards);
  const validUntil = cur.resetLo - guards.sendGuardMs;
  const nextWindow = cur.resetHi + guards.rolloverGuardMs;
  const none = (retryAt: number): RateGrant => ({ window: cur, granted: 0, validUntil, retryAt });
  if (want <= 0) return none(now);
  const middle = Math.floor((cur.resetLo + cur.resetHi) / 2);
  if (now >= validUntil) {
    if (now < middle) return none(middle);
    if (cur.probedAt >= validUntil) return none(now < cur.probedAt + PROBE_ANSWER_MS ? Math.min(nextWindow, cur.probedAt + PROBE_ANSWER_MS) : nextWindow);
    if (cur.used >= cur.quota || middle - cur.resetLo < MIN_PROBE_GAIN_MS) return none(nextWindow);
    return { window: { ...cur, used: cur.used + 1, probedAt: now }, granted: 1, validUntil: nextWindow, retryAt: now };
  }
  const left = cur.quota - guards.margin - cur.used;
  if (left <= 0) return none(middle);
  const granted = Math.min(left, want, Math.max(1, Math.floor(left / 8)));
  return { window: { ...cur, used: cur.used + granted }, granted, validUntil, retryAt: now };
}

/** How long after a probe the other tasks ask again (its answer written by then). */
const PROBE_ANSWER_MS = 250;
/** Not worth a probe when the reset is already known this closely. */
const MIN_PROBE_GAIN_MS = 20;

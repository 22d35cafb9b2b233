// Pace this task's Hub requests to the array's request budget: the Hub's RateLimit headers,
// merged across tasks in the store's `rate_budget` row, hand out tokens (core rate-window.ts);
// a request goes out only with one, so the array stops before the Hub answers 429 and starts
// again when the window resets. Until some task has seen the headers, one request at a time
// goes out (its answer tells whether the Hub states a budget); when the Hub sends none, nothing
// is paced and the 429 + Retry-After pause (throttle-gate.ts) is the only brake.
import { setTimeout as sleep } from 'node:timers/promises';
import { mergeWindow, rateSampleOf, windowOfSample, type HttpHeaders, type RateGrant, type RateWindow } from '@hfhpc/core';
import { deferred } from './deferred.js';

/** The shared row, reached asynchronously (the store's `claimRateBudget` through `writeAsync`). */
export interface BudgetTable {
  /**
   * Merge `seen` into the row, add `unclaimed` (requests sent without a token) to its count, and
   * claim up to `want` tokens (0: record only). Null: no task has seen the headers yet.
   */
  claim(seen: RateWindow | null, want: number, unclaimed: number): Promise<RateGrant | null>;
}

export interface BudgetPacerParams {
  table: BudgetTable;
  /** The bucket paced (default `resolvers`: every request the worker sends to the Hub is a resolve). */
  bucket?: string;
  /**
   * Most tokens one claim asks for (default 32): a claim is one write transaction, so a task
   * asks for several at once; the store gives at most an eighth of what is left of the window.
   */
  maxBatch?: number;
  /** Answers seen while no claim is due are written at most this often (default 5,000 ms). */
  flushMs?: number;
  /** Before the headers are known, a request whose answer has not come back after this long lets the next one go (default 5,000 ms). */
  probeTimeoutMs?: number;
  /** Longest single sleep before the row is asked again (default 30,000 ms). */
  maxSleepMs?: number;
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<unknown>;
  /** A failed claim (the database busy beyond its retries): the request goes out unpaced. Default: ignored. */
  onError?: (err: unknown) => void;
}

export interface BudgetPacer {
  /** Resolves when this request may go out (a token taken); rejects when `signal` aborts. */
  wait(signal?: AbortSignal): Promise<void>;
  /** Every Hub answer's headers: what they say about the bucket is merged and shared. */
  observe(headers: HttpHeaders | undefined): void;
  /** `claim`: paced; `probe`: no task has seen the headers yet; `open`: the Hub sends none. */
  readonly mode: 'claim' | 'probe' | 'open';
}

export function createBudgetPacer(params: BudgetPacerParams): BudgetPacer {
  const { table, bucket = 'resolvers', maxBatch = 32, flushMs = 5000, probeTimeoutMs = 5000, maxSleepMs = 30_000 } = params;
  const now = params.now ?? Date.now;
  const pause = params.sleep ?? ((ms: number, signal?: AbortSignal) => sleep(ms, undefined, { signal }));
  let mode: BudgetPacer['mode'] = 'claim';
  let seen: RateWindow | null = null;
  let tokens = 0;
  let validUntil = 0;
  let retryAt = 0;
  let probeAt = -Infinity;
  let lastWrite = -Infinity;
  // Requests let through without a token (the probe before the row exists, a failed claim).
  let unclaimed = 0;
  let claiming: Promise<boolean> | undefined;
  let changed = deferred();

  const wake = (): void => {
    changed.resolve();
    changed = deferred();
  };

  /** One claim shared by every waiter of this process; true when it failed (go unpaced once). */
  const claim = (want: number): Promise<boolean> => {
    claiming ??= (async () => {
      const carried = seen;
      const sent = unclaimed;
      seen = null;
      unclaimed = 0;
      lastWrite = now();
      try {
        const grant = await table.claim(carried, want, sent);
        if (!grant) {
          if (mode === 'claim') mode = 'probe';
          return false;
        }
        if (want > 0) {
          tokens = grant.granted;
          validUntil = grant.validUntil;
          retryAt = grant.retryAt;
        }
        return false;
      } catch (err) {
        // Keep what was seen and sent for the next write.
        if (carried) seen = seen ? mergeWindow(carried, seen) : carried;
        unclaimed += sent;
        params.onError?.(err);
        return true;
      }
    })().finally(() => {
      claiming = undefined;
    });
    return claiming;
  };

  return {
    get mode() {
      return mode;
    },
    async wait(signal) {
      for (;;) {
        signal?.throwIfAborted();
        const t = now();
        if (mode === 'open') return;
        if (tokens > 0 && t < validUntil) {
          tokens--;
          return;
        }
        if (mode === 'probe') {
          if (t - probeAt >= probeTimeoutMs) {
            probeAt = t;
            unclaimed++;
            return;
          }
          // Until the probe's answer comes back or it times out; the timer is dropped either way.
          const stop = new AbortController();
          const timer = pause(probeAt + probeTimeoutMs - t, signal ? AbortSignal.any([signal, stop.signal]) : stop.signal);
          try {
            await abortable(Promise.race([timer, changed.promise]), signal);
          } finally {
            stop.abort();
            timer.catch(() => {});
          }
          continue;
        }
        if (claiming) {
          if (await abortable(claiming, signal)) return void unclaimed++;
          continue;
        }
        if (t < retryAt && tokens === 0) {
          await pause(Math.min(retryAt - t, maxSleepMs), signal);
          retryAt = 0;
          continue;
        }
        if (await abortable(claim(maxBatch), signal)) return void unclaimed++;
      }
    },
    observe(headers) {
      const sample = rateSampleOf(headers, bucket, now());
      if (!sample) {
        // The first answer states no budget: the Hub sends none, do not pace.
        if (mode === 'probe') {
          mode = 'open';
          wake();
        }
        return;
      }
      seen = mergeWindow(seen, windowOfSample(sample));
      if (mode !== 'claim') {
        mode = 'claim';
        retryAt = 0;
        wake();
      }
      // Shared even while this task needs no token: others learn of an exhausted window (a 429
      // answer says r=0) or of requests made with the same token elsewhere.
      if (!claiming && now() - lastWrite >= flushMs) void claim(0);
    },
  };
}

/** `p`, or the abort reason as soon as `signal` aborts. */
function abortable<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    // The task's aborts always carry an Error (InterruptedError, a lease error).
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

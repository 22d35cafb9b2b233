import { setTimeout as sleep } from 'node:timers/promises';
import type { HttpHeaders } from '@hfhpc/core';

/** The shape the download engine asks for: wait before a request, pause everyone after a 429. */
export interface RequestGate {
  wait(signal?: AbortSignal): Promise<void>;
  pause(untilMs: number, reason: string): void;
  /** Every Hub answer's headers (the budget it states), when the gate paces to it. */
  observe?(headers: HttpHeaders | undefined): void;
}

/** Read and extend the cluster-wide pause (the store's `throttle` table, asynchronously). */
export interface ThrottleTable {
  get(): Promise<{ notBefore: number } | null>;
  /** Extends the pause; never shortens it (the store enforces that). */
  set(notBefore: number, reason: string): Promise<unknown>;
}

export interface ThrottleGateParams {
  table: ThrottleTable;
  /** Re-read the table at most this often (default 1,000 ms): a request must not cost a DB read. */
  cacheMs?: number;
  /** Default Date.now. */
  now?: () => number;
  /** Abortable sleep. Default `timers/promises.setTimeout`. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<unknown>;
  /** A failed read or write of the table (the database busy beyond its retries). Default: ignored. */
  onError?: (err: unknown) => void;
}

/**
 * A gate over the shared `throttle` table: every task of the array waits out a 429 that any
 * one of them received, so the whole array backs off as one client instead of each task
 * hammering the Hub on its own.
 */
export function createThrottleGate(params: ThrottleGateParams): RequestGate {
  const now = params.now ?? Date.now;
  const cacheMs = params.cacheMs ?? 1_000;
  const pause = params.sleep ?? ((ms: number, signal?: AbortSignal) => sleep(ms, undefined, { signal }));
  let notBefore = 0;
  let readAt = -Infinity;
  // One read at a time, shared by every request that finds the cached value stale.
  let reading: Promise<void> | undefined;

  const refresh = (): Promise<void> => {
    readAt = now();
    reading ??= params.table
      .get()
      .then(
        (row) => {
          notBefore = Math.max(notBefore, row?.notBefore ?? 0);
        },
        (err: unknown) => params.onError?.(err),
      )
      .finally(() => {
        reading = undefined;
      });
    return reading;
  };

  return {
    async wait(signal) {
      for (;;) {
        signal?.throwIfAborted();
        if (now() - readAt >= cacheMs) await refresh();
        signal?.throwIfAborted();
        const ms = notBefore - now();
        if (ms <= 0) return;
        await pause(ms, signal);
        // Another task may have extended the pause while we slept: read again.
        readAt = -Infinity;
      }
    },
    pause(untilMs, reason) {
      if (untilMs <= notBefore) return;
      notBefore = untilMs;
      params.table.set(untilMs, reason).catch((err: unknown) => params.onError?.(err));
    },
  };
}

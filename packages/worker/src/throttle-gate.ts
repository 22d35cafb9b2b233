import { setTimeout as sleep } from 'node:timers/promises';

/** The shape the download engine asks for: wait before a request, pause everyone after a 429. */
export interface RequestGate {
  wait(signal?: AbortSignal): Promise<void>;
  pause(untilMs: number, reason: string): void;
}

/** Read and extend the cluster-wide pause (the store's `throttle` table). */
export interface ThrottleTable {
  get(): { notBefore: number } | null;
  /** Extends the pause; never shortens it (the store enforces that). */
  set(notBefore: number, reason: string): void;
}

export interface ThrottleGateParams {
  table: ThrottleTable;
  /** Re-read the table at most this often (default 1,000 ms): a request must not cost a DB read. */
  cacheMs?: number;
  /** Default Date.now. */
  now?: () => number;
  /** Abortable sleep. Default `timers/promises.setTimeout`. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<unknown>;
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

  const refresh = (): void => {
    readAt = now();
    notBefore = Math.max(notBefore, params.table.get()?.notBefore ?? 0);
  };

  return {
    async wait(signal) {
      for (;;) {
        signal?.throwIfAborted();
        if (now() - readAt >= cacheMs) refresh();
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
      params.table.set(untilMs, reason);
    },
  };
}

// An in-process DownloadGate: all downloads of one process wait out a 429 any of them got.
// The worker replaces it with the cluster-wide gate over the store's `throttle` table.
import { setTimeout as sleep } from 'node:timers/promises';
import type { DownloadGate } from './types.js';

export interface MemoryGateParams {
  /** Default `Date.now`. */
  now?: () => number;
  /** Abortable sleep. Default `timers/promises.setTimeout`. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<unknown>;
}

export interface MemoryGate extends DownloadGate {
  /** Epoch ms before which no request should go out (0 when never paused). */
  readonly notBefore: number;
  /** Why the last pause was set. */
  readonly reason?: string;
}

export function createMemoryGate(params: MemoryGateParams = {}): MemoryGate {
  const now = params.now ?? Date.now;
  const pause = params.sleep ?? ((ms: number, signal?: AbortSignal) => sleep(ms, undefined, { signal }));
  let notBefore = 0;
  let reason: string | undefined;
  return {
    get notBefore() {
      return notBefore;
    },
    get reason() {
      return reason;
    },
    async wait(signal) {
      // Loop: the pause may be extended while we sleep.
      for (let ms = notBefore - now(); ms > 0; ms = notBefore - now()) {
        signal?.throwIfAborted();
        await pause(ms, signal);
      }
      signal?.throwIfAborted();
    },
    pause(untilMs, why) {
      if (untilMs > notBefore) {
        notBefore = untilMs;
        reason = why;
      }
    },
  };
}

/** The default gate of `downloadBlob`: shared by every download in this process. */
export const processGate: MemoryGate = createMemoryGate();

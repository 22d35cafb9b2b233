import { LeaseLostError, StaleFenceError } from '@hfhpc/core';

export interface HeartbeatParams {
  /**
   * Renews the lease (through the store's asynchronous path: the beat never blocks the
   * event loop); rejects with LeaseLostError / StaleFenceError when it is gone.
   */
  beat: () => Promise<void>;
  /** Time between beats: a fraction of the lease TTL (the caller uses ttl/4). */
  intervalMs: number;
  /** Called once when the lease is lost; no further beats follow. */
  onLost: (err: LeaseLostError | StaleFenceError) => void;
  /** Any other failure (the DB busy beyond its retries): logged, retried on the next beat. */
  onError?: (err: unknown) => void;
}

export interface Heartbeat {
  stop(): void;
}

/**
 * Renews a lease on a timer; a beat still waiting for the database when the next one is due
 * is not doubled. The timer is unref'd: a heartbeat must never keep a finished process alive.
 */
export function startHeartbeat(params: HeartbeatParams): Heartbeat {
  let stopped = false;
  let beating = false;
  const timer = setInterval(() => {
    if (stopped || beating) return;
    beating = true;
    params
      .beat()
      .catch((err: unknown) => {
        if (stopped) return;
        if (err instanceof LeaseLostError || err instanceof StaleFenceError) {
          stopped = true;
          clearInterval(timer);
          params.onLost(err);
        } else {
          params.onError?.(err);
        }
      })
      .finally(() => {
        beating = false;
      });
  }, Math.max(10, params.intervalMs));
  timer.unref();
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}

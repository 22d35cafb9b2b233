// Detects a body that stopped flowing: no new bytes for `stallMs` while we were not the ones
// holding it back (a full write buffer means the disk is slow, not the network). One timer per
// transfer, no per-chunk work: it polls a counter.

export interface StallWatchParams {
  stallMs: number;
  /** A counter that grows while bytes arrive. */
  progress: () => number;
  /** True while backpressure from the disk is what stops the flow. */
  waitingOnDisk?: () => boolean;
  onStall: () => void;
  /** Default `Date.now`. */
  now?: () => number;
}

export interface StallWatch {
  readonly stalled: boolean;
  stop(): void;
}

export function watchStall(params: StallWatchParams): StallWatch {
  const { stallMs, progress, waitingOnDisk = () => false, onStall, now = Date.now } = params;
  let last = progress();
  let lastAt = now();
  let stalled = false;
  const timer = setInterval(
    () => {
      const current = progress();
      if (current !== last || waitingOnDisk()) {
        last = current;
        lastAt = now();
      } else if (now() - lastAt >= stallMs) {
        stalled = true;
        clearInterval(timer);
        onStall();
      }
    },
    Math.max(10, Math.min(1000, Math.floor(stallMs / 4))),
  );
  timer.unref();
  return {
    get stalled() {
      return stalled;
    },
    stop: () => clearInterval(timer),
  };
}

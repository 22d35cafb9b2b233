// The gate every Hub request of a task passes: the cluster-wide pause after a 429
// (throttle-gate.ts) and the array's shared request budget (budget-pacer.ts), both kept in the
// state database and reached only through `readAsync` / `writeAsync`.
import { claimRateBudget, getThrottle, setThrottle, type Logger, type Store } from '@hfhpc/core';
import { createBudgetPacer, type BudgetPacer } from './budget-pacer.js';
import { createThrottleGate, type RequestGate } from './throttle-gate.js';

/** The 429 pause around the budget: a request waits out a pause, then a token, then a pause set meanwhile. */
export function createPacedGate(params: { throttle: RequestGate; pacer?: BudgetPacer }): RequestGate {
  const { throttle, pacer } = params;
  if (!pacer) return throttle;
  return {
    async wait(signal) {
      await throttle.wait(signal);
      await pacer.wait(signal);
      await throttle.wait(signal);
    },
    pause: (untilMs, reason) => throttle.pause(untilMs, reason),
    observe: (headers) => pacer.observe(headers),
  };
}

export interface WorkerGateParams {
  store: Store;
  /** Lease owner: who set a pause, who last wrote the budget. */
  owner: string;
  log: Pick<Logger, 'warn'>;
  now?: () => number;
  /** `HFHPC_PACING=off` turns the budget off (429 + Retry-After only; for comparison). */
  env?: NodeJS.ProcessEnv;
}

export function createWorkerGate(params: WorkerGateParams): RequestGate {
  const { store, owner, log, now, env = process.env } = params;
  const throttle = createThrottleGate({
    table: {
      get: () => store.readAsync(() => getThrottle(store)),
      set: (notBefore, reason) => store.writeAsync(() => setThrottle(store, { notBefore, reason, setBy: owner })),
    },
    now,
    onError: (err) => log.warn(`throttle table: ${(err as Error).message}`),
  });
  const bucket = 'resolvers';
  const pacer = env.HFHPC_PACING === 'off'
    ? undefined
    : createBudgetPacer({
        bucket,
        table: { claim: (seen, want, unclaimed) => store.writeAsync(() => claimRateBudget(store, { bucket, seen, want, unclaimed, owner })) },
        now,
        onError: (err) => log.warn(`rate budget: ${(err as Error).message}`),
      });
  return createPacedGate({ throttle, pacer });
}

import { InterruptedError } from '@hfhpc/core';

/** The signals that stop a task: Slurm's TERM at the time limit, Ctrl-C, and `--signal=B:USR1@…`. */
export const STOP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGUSR1'] as const;
export type StopSignal = (typeof STOP_SIGNALS)[number];

export interface SignalWatch {
  /** Aborted (reason: InterruptedError) on the first stop signal. */
  readonly signal: AbortSignal;
  /** The first signal received, if any. */
  received(): StopSignal | undefined;
  /** Remove the handlers and the deadline timer. */
  dispose(): void;
}

export interface WatchSignalsParams {
  /** Default STOP_SIGNALS. */
  signals?: readonly StopSignal[];
  /** Where handlers are installed. Default `process`. */
  proc?: Pick<NodeJS.Process, 'on' | 'off'>;
  /**
   * Called if the task has not finished this long after the first signal (default 9,000 ms,
   * under Slurm's 10 s between TERM and KILL): a hung filesystem call must not cost the lease
   * release its chance, so the caller exits hard.
   */
  deadlineMs?: number;
  onDeadline?: () => void;
  /** Called once, with the signal, when the first stop signal arrives. */
  onSignal?: (sig: StopSignal) => void;
}

/**
 * Turns stop signals into an AbortSignal. Handlers stay installed after the first signal so a
 * second Ctrl-C does not kill the process before its lease is released.
 */
export function watchSignals(params: WatchSignalsParams = {}): SignalWatch {
  const proc = params.proc ?? process;
  const signals = params.signals ?? STOP_SIGNALS;
  const controller = new AbortController();
  let first: StopSignal | undefined;
  let deadline: NodeJS.Timeout | undefined;
  const handlers = signals.map((sig) => {
    const handler = (): void => {
      if (first !== undefined) return;
      first = sig;
      params.onSignal?.(sig);
      controller.abort(new InterruptedError(`interrupted by ${sig}`, { hint: 'the lease was released; run again or requeue to resume' }));
      if (params.onDeadline) {
        deadline = setTimeout(params.onDeadline, params.deadlineMs ?? 9_000);
        deadline.unref();
      }
    };
    proc.on(sig, handler);
    return [sig, handler] as const;
  });
  return {
    signal: controller.signal,
    received: () => first,
    dispose: () => {
      for (const [sig, handler] of handlers) proc.off(sig, handler);
      if (deadline) clearTimeout(deadline);
    },
  };
}

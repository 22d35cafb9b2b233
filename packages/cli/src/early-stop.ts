// A stop signal that reaches `hfhpc work` while node is still loading the CLI and the worker
// would otherwise end it with 128 + signal (143 for TERM), an exit code a batch script does not
// requeue. Nothing is claimed before the worker's own signal watch is installed, so until then a
// stop signal means: exit 75 at once (interrupted, nothing held, safe to requeue).
const STOP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGUSR1'] as const;
const EXIT_INTERRUPTED = 75;

let handler: ((sig: NodeJS.Signals) => void) | undefined;

/** Install the early handlers (bin.ts, before anything else loads). */
export function installEarlyStop(): void {
  if (handler) return;
  handler = (sig) => {
    process.stderr.write(`hfhpc: ${sig} received before the task started; nothing claimed, exiting (exit 75)\n`);
    process.exit(EXIT_INTERRUPTED);
  };
  for (const sig of STOP_SIGNALS) process.on(sig, handler);
}

/** Remove them once the worker's own signal watch is in place (it releases leases). */
export function removeEarlyStop(): void {
  if (!handler) return;
  for (const sig of STOP_SIGNALS) process.off(sig, handler);
  handler = undefined;
}

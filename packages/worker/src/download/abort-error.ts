import { HfhpcError, InterruptedError } from '@hfhpc/core';

/**
 * The error a download rejects with when its signal aborts: the signal's reason when it is
 * one of ours (LeaseLostError when the worker lost the shard), else InterruptedError.
 */
export function abortError(signal: AbortSignal, params: { path: string; partialPath: string; bytesKept: number }): HfhpcError {
  const reason: unknown = signal.reason;
  if (reason instanceof HfhpcError) return reason;
  return new InterruptedError(`download of ${params.path} interrupted; ${params.bytesKept} bytes kept in ${params.partialPath}`, {
    cause: reason,
    hint: 'run again to resume from the partial file',
    context: { path: params.path, partialPath: params.partialPath, bytesKept: params.bytesKept },
  });
}

import { WorkFailedError } from '@hfhpc/core';
import type { WorkerResult } from './worker-types.js';

/** Files failed: WorkFailedError (exit 1) naming the first few; nothing when none did. */
export function throwIfFilesFailed(result: WorkerResult): void {
  if (result.failures.length === 0) return;
  const shown = result.failures.slice(0, 5).map((f) => `${f.repo}/${f.path}: ${f.error}`);
  const more = result.failures.length > 5 ? `; and ${result.failures.length - 5} more` : '';
  throw new WorkFailedError(`${result.failures.length} file(s) failed: ${shown.join('; ')}${more}`, {
    hint: 'see hfhpc status for every failure; fix the cause and run again (done files are not fetched again)',
    context: { result },
  });
}

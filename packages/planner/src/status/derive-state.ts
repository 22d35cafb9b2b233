import type { UnitState } from './status-types.js';

/**
 * The state of a group of files (a dataset or the whole plan): done when every file is,
 * failed when only failed files are left (nothing more will happen without a re-submit),
 * running while any file or shard is being worked on, else pending.
 */
export function deriveState(c: { files: number; done: number; failed: number; running: number; leased: boolean }): UnitState {
  if (c.done === c.files) return 'done';
  if (c.done + c.failed === c.files) return 'failed';
  if (c.running > 0 || c.leased) return 'running';
  return 'pending';
}

import { statfs } from 'node:fs/promises';
import { formatBytes, inspectDatabase } from '@hfhpc/core';
import type { CheckResult, DoctorContext } from './doctor-types.js';

/** Free space on the root's filesystem against what the newest plan still has to fetch. */
export async function checkSpace(ctx: DoctorContext): Promise<CheckResult> {
  let free: number;
  try {
    const fs = await statfs(ctx.root);
    free = fs.bavail * fs.bsize;
  } catch (err) {
    return { id: 'space', status: 'skip', detail: `cannot read free space of ${ctx.root} (${(err as NodeJS.ErrnoException).code})` };
  }
  let left: number | undefined;
  try {
    // Each blob counted once, the partial bytes already on disk as done (core's store).
    const db = inspectDatabase(ctx.dbPath);
    if (db) {
      try {
        left = db.newestPlanBytesLeft();
      } finally {
        db.close();
      }
    }
  } catch {
    // The database checks report why it cannot be read; here only the free space is shown.
  }
  if (left === undefined) return { id: 'space', status: 'ok', detail: `${formatBytes(free)} free on ${ctx.root} (no plan to compare with)` };
  if (free < left) {
    return {
      id: 'space',
      status: 'fail',
      detail: `${formatBytes(free)} free on ${ctx.root}, ${formatBytes(left)} still to fetch`,
      fix: `free ${formatBytes(left - free)} (quota: \`lfs quota -u $USER <fs>\` on Lustre), or plan fewer datasets`,
    };
  }
  return { id: 'space', status: 'ok', detail: `${formatBytes(free)} free on ${ctx.root}, ${formatBytes(left)} still to fetch` };
}

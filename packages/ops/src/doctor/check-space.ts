import { statfs } from 'node:fs/promises';
import { formatBytes } from '@hfhpc/core';
import type { CheckResult, DoctorContext } from './doctor-types.js';
import { openDbReadonly } from './open-db-readonly.js';

// Bytes still to fetch in the newest plan, counting each blob once (files sharing a blob are
// stored once, and hard-linked across repo folders) and the partial bytes already on disk as done.
const LEFT_SQL = `
SELECT COALESCE(SUM(left), 0) AS left FROM (
  SELECT MIN(MAX(f.size - MIN(f.bytes_done, f.size), 0)) AS left
  FROM files f JOIN datasets d ON d.id = f.dataset_id
  WHERE d.plan_id = (SELECT MAX(id) FROM plans) AND f.state <> 'done'
  GROUP BY f.blob)`;

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
    const db = openDbReadonly(ctx.dbPath);
    if (db) {
      try {
        left = (db.prepare(LEFT_SQL).get() as { left: number }).left;
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

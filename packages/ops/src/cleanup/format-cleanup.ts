import path from 'node:path';
import { formatBytes } from '@hfhpc/core';
import type { CleanupReport } from './run-cleanup.js';

/** What cleanup did (or, with --dry-run, would do). */
export function formatCleanup(r: CleanupReport, options: { root: string }): string {
  const would = r.dry_run ? 'would ' : '';
  const out: string[] = [];
  out.push(`${r.dry_run ? 'dry run: ' : ''}${would}expire ${r.expired_leases.length} dead lease(s)`);
  for (const l of r.expired_leases) {
    out.push(`  shard ${l.shard} of plan ${l.plan_id}: ${l.owner}, ${l.holder_gone ? `its process is gone (lease would expire ${l.expired_at})` : `expired ${l.expired_at}`}`);
  }
  const removed = r.partials.filter((p) => p.removed);
  const kept = r.partials.filter((p) => !p.removed);
  out.push(`${would}remove ${removed.length} partial file(s)`);
  for (const p of removed) out.push(`  ${path.relative(options.root, p.path)} (${formatBytes(p.size)}, ${p.verdict})`);
  if (kept.length) {
    const inUse = kept.filter((p) => p.verdict === 'in-use').length;
    const resumable = kept.filter((p) => p.verdict === 'resumable');
    out.push(
      `kept ${kept.length} partial file(s): ${inUse} being written under a live lease, ${resumable.length} resumable by the next task ` +
        `(${formatBytes(resumable.reduce((s, p) => s + p.size, 0))}; --remove-resumable deletes them)`,
    );
  }
  if (r.quarantine_removed.length) out.push(`${would}remove ${r.quarantine_removed.length} quarantined corrupt blob(s)`);
  out.push(`${would}prune ${r.events_pruned} old event(s); ${formatBytes(r.bytes_freed)} ${r.dry_run ? 'would be ' : ''}freed`);
  return `${out.join('\n')}\n`;
}

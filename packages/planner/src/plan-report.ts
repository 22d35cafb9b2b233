// How a plan is shown: one text block for people (stdout) and the `--json` object for scripts.
// Log lines go to stderr separately; these are the command's result.
import { formatBytes } from '@hfhpc/core';
import type { PlanOutcome } from './plan-download.js';
import type { ResubmitOutcome } from './resubmit-failed.js';

/** The `--json` object: `{plan_id, datasets, files, bytes, shards, scripts, job_ids}` and a few more. */
export function planJson(o: PlanOutcome): Record<string, unknown> {
  return {
    plan_id: o.planId,
    dry_run: o.dryRun,
    datasets: o.datasets.map((d) => ({
      repo: d.repo,
      revision: d.revision,
      commit: d.commit,
      gated: d.gated,
      files: d.files,
      bytes: d.bytes,
      ...d.changes,
    })),
    dropped: o.dropped,
    files: o.files,
    bytes: o.bytes,
    bytes_to_fetch: o.bytesToFetch,
    shards: o.shards,
    shards_to_run: o.shardsToRun,
    spread: o.spread,
    max_parallel: o.maxParallel,
    scripts: o.scripts,
    job_ids: o.jobIds,
  };
}

const n = (x: number) => x.toLocaleString('en-US');

/** A few lines a person reads after `hfhpc plan`. */
export function planText(o: PlanOutcome): string {
  const lines: string[] = [];
  const head = o.dryRun ? 'dry run (nothing written):' : `plan ${o.planId}:`;
  lines.push(
    `${head} ${o.datasets.length} dataset(s), ${n(o.files)} files, ${formatBytes(o.bytes)} (${formatBytes(o.bytesToFetch)} to fetch), ` +
      `${n(o.shards)} shard(s) of ${formatBytes(o.spread.smallest)} to ${formatBytes(o.spread.largest)}, at most ${o.maxParallel} at once`,
  );
  for (const d of o.datasets) {
    const c = d.changes;
    lines.push(
      `  ${d.repo} ${d.revision} → ${d.commit.slice(0, 12)}: ${n(d.files)} files, ${formatBytes(d.bytes)}; ` +
        `new ${n(c.new)}, changed ${n(c.changed)}, removed ${n(c.removed)}, unchanged ${n(c.unchanged)}, done ${n(c.done)}`,
    );
  }
  for (const d of o.dropped) lines.push(`  ${d.repo}: no longer in the manifest (${n(d.files)} files dropped from the plan)`);
  if (o.shardsToRun.length === 0) lines.push(o.dryRun ? 'nothing to fetch: every file is done' : 'nothing to fetch: every file is done, so no script was written and nothing submitted');
  else if (o.shardsToRun.length < o.shards) lines.push(`${n(o.shardsToRun.length)} of ${n(o.shards)} shard(s) have work; the array covers only those`);
  for (const s of o.scripts) lines.push(`script: ${s}`);
  if (o.jobIds.length > 0) lines.push(`submitted: job ${o.jobIds.join(', ')}`);
  else if (!o.dryRun && o.scripts.length > 0) lines.push(`submit with: ${o.scripts.map((s) => `sbatch ${s}`).join(" && ")}`);
  return lines.join('\n');
}

export function resubmitJson(o: ResubmitOutcome): Record<string, unknown> {
  return { plan_id: o.planId, dry_run: o.dryRun, shards: o.shards, scripts: o.scripts, job_ids: o.jobIds };
}

export function resubmitText(o: ResubmitOutcome): string {
  if (o.shards.length === 0) return `plan ${o.planId}: no failed shard to re-submit`;
  const lines = [`plan ${o.planId}: ${o.dryRun ? 'would re-submit' : 're-submitting'} ${o.shards.length} failed shard(s): ${o.shards.join(',')}`];
  for (const s of o.scripts) lines.push(`script: ${s}`);
  if (o.jobIds.length > 0) lines.push(`submitted: job ${o.jobIds.join(', ')}`);
  return lines.join('\n');
}

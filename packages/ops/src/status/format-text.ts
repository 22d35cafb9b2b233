import { formatBytes } from '@hfhpc/core';
import prettyMs from 'pretty-ms';
import type { ShardStatus, SlurmStatus, StatusReport } from './status-types.js';
import { textTable } from './text-table.js';

export interface FormatStatusOptions {
  /** Most shards listed per state (running, failed); the rest are counted. Default 20. */
  maxShards?: number;
  /** Most failure groups listed. Default 10. */
  maxGroups?: number;
}

const pct = (done: number, total: number): string => (total === 0 ? '100.0%' : `${((100 * done) / total).toFixed(1)}%`);
const rate = (r: number | null): string => (r === null ? '-' : `${formatBytes(r)}/s`);
const duration = (ms: number): string => (ms < 1000 ? '<1s' : prettyMs(ms, { secondsDecimalDigits: 0, unitCount: 2 }));
const etaText = (s: number | null, state: string): string => (state === 'done' ? '-' : s === null ? '?' : duration(s * 1000));

/** The human view of a status report: datasets table, shard summary, failures, Slurm. */
export function formatStatusText(report: StatusReport, options: FormatStatusOptions = {}): string {
  const { maxShards = 20, maxGroups = 10 } = options;
  const now = Date.parse(report.generated_at);
  const out: string[] = [];
  out.push(`plan ${report.plan_id} · ${report.state} · ${report.generated_at}`);
  out.push('');
  out.push(...datasetTable(report));
  out.push(
    report.rate_source === 'samples'
      ? `rate: bytes written over the last ${report.rate_window_s} s`
      : `rate: files verified over the last ${report.rate_window_s} s`,
  );
  if (report.throttle) {
    out.push(`throttle: Hub requests paused until ${report.throttle.not_before}${report.throttle.reason ? ` (${report.throttle.reason})` : ''}`);
  }

  const c = report.shard_counts;
  out.push('');
  out.push(`shards: ${c.pending} pending · ${c.running} running · ${c.done} done · ${c.failed} failed (${report.shards.length})`);
  out.push(...shardLines(report.shards.filter((s) => s.state === 'running'), maxShards, (s) => runningLine(s, now)));
  out.push(...shardLines(report.shards.filter((s) => s.state === 'failed'), maxShards, failedLine));
  if (report.failures.length) out.push('', ...failureLines(report, maxGroups));
  if (report.slurm) out.push('', ...slurmLines(report.slurm));
  return `${out.join('\n')}\n`;
}

/** One row per dataset and the total. */
function datasetTable(report: StatusReport): string[] {
  const rows = [['DATASET', 'REVISION', 'FILES', 'FAILED', 'BYTES', '%', 'RATE', 'ETA', 'STATE']];
  for (const d of report.datasets) {
    rows.push([
      d.repo,
      `${d.revision}@${d.commit.slice(0, 8)}`,
      `${d.files_done}/${d.files}`,
      String(d.files_failed),
      `${formatBytes(d.bytes_done)} / ${formatBytes(d.bytes)}`,
      pct(d.bytes_done, d.bytes),
      rate(d.rate_bytes_per_s),
      etaText(d.eta_s, d.state),
      d.state,
    ]);
  }
  const t = report.totals;
  rows.push([
    'total',
    '',
    `${t.files_done}/${t.files}`,
    String(t.files_failed),
    `${formatBytes(t.bytes_done)} / ${formatBytes(t.bytes)}`,
    pct(t.bytes_done, t.bytes),
    rate(report.rate_bytes_per_s),
    etaText(report.eta_s, report.state),
    report.state,
  ]);
  return textTable(rows, ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'l']);
}

/** Failed files grouped by cause, a few examples each, and what to do. */
function failureLines(report: StatusReport, maxGroups: number): string[] {
  const out: string[] = [];
  const failed = report.totals.files_failed;
  out.push(`failures: ${failed} file${failed === 1 ? '' : 's'}${report.failures_truncated ? ` (causes from the first ${report.failures.length})` : ''}`);
  for (const g of report.failure_groups.slice(0, maxGroups)) {
    out.push(`  ${g.count} × ${g.cause}`);
    for (const e of g.examples) out.push(`      ${e}`);
  }
  if (report.failure_groups.length > maxGroups) out.push(`  … ${report.failure_groups.length - maxGroups} more causes (status --json lists the files)`);
  out.push('  fix the cause, then `hfhpc plan --resubmit-failed` re-runs only the failed shards');
  return out;
}

function shardLines(shards: ShardStatus[], max: number, line: (s: ShardStatus) => string): string[] {
  const lines = shards.slice(0, max).map(line);
  if (shards.length > max) lines.push(`  … ${shards.length - max} more ${shards[0]?.state} shards`);
  return lines;
}

function runningLine(s: ShardStatus, now: number): string {
  const bytes = `${formatBytes(s.bytes_done)}/${formatBytes(s.bytes)}`;
  let lease = 'no lease';
  if (s.lease_expires_at) {
    const leftMs = Date.parse(s.lease_expires_at) - now;
    lease = s.lease_expired ? `lease EXPIRED ${duration(-leftMs)} ago (task gone? \`hfhpc cleanup\`)` : `lease expires in ${duration(leftMs)}`;
  }
  return `  running #${s.index}  ${bytes}  ${s.files_done}/${s.files} files  ${s.owner ?? '-'}  ${lease}  attempt ${s.attempts}`;
}

function failedLine(s: ShardStatus): string {
  return `  failed  #${s.index}  ${s.last_error ?? 'no reason recorded'}  (attempts ${s.attempts})`;
}

function slurmLines(s: SlurmStatus): string[] {
  if (!s.available) return [`slurm: not queried (${s.error ?? 'unavailable'})`];
  const lines = [`slurm: jobs ${s.job_ids.join(', ') || '(none recorded)'}`];
  const rows = s.tasks.map((t) => [
    t.array_job_id && t.task_id !== null ? `${t.array_job_id}_${t.task_id}` : t.job_id,
    t.state,
    t.reason && t.reason !== 'None' ? t.reason : '',
    t.exit_code ?? '',
    t.restarts ? `restarts ${t.restarts}` : '',
    t.shards.length ? `shards ${t.shards.join(',')}` : '',
  ]);
  lines.push(...textTable(rows).map((l) => `  ${l}`));
  if (s.running_without_lease.length) lines.push(`  ! running in Slurm without a lease: ${s.running_without_lease.join(', ')}`);
  for (const l of s.leases_without_task) lines.push(`  ! shard ${l.shard} leased by ${l.owner}, which Slurm no longer runs (the lease will expire; then \`hfhpc cleanup\`)`);
  return lines;
}

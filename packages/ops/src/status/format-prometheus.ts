import type { StatusReport, UnitState } from './status-types.js';

const STATES: readonly UnitState[] = ['pending', 'running', 'done', 'failed'];

/** A Prometheus label value: backslash, double quote and newline escaped. */
function label(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/**
 * The report as node_exporter textfile-collector metrics (text exposition format 0.0.4).
 * Write it to `<dir>/hfhpc.prom` atomically (status --output does: temp file + rename).
 */
export function formatStatusPrometheus(report: StatusReport): string {
  const out: string[] = [];
  const metric = (name: string, help: string, samples: [Record<string, string>, number | null][]): void => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
    for (const [labels, value] of samples) {
      if (value === null || !Number.isFinite(value)) continue;
      const l = Object.entries({ plan: String(report.plan_id), ...labels })
        .map(([k, v]) => `${k}="${label(v)}"`)
        .join(',');
      out.push(`${name}{${l}} ${value}`);
    }
  };
  const ds = (d: StatusReport['datasets'][number]): Record<string, string> => ({ repo: d.repo, revision: d.revision });
  metric('hfhpc_bytes', 'Bytes planned per dataset.', report.datasets.map((d) => [ds(d), d.bytes]));
  metric('hfhpc_bytes_done', 'Bytes on disk per dataset (verified files whole, partial files so far).', report.datasets.map((d) => [ds(d), d.bytes_done]));
  metric('hfhpc_files', 'Files planned per dataset.', report.datasets.map((d) => [ds(d), d.files]));
  metric('hfhpc_files_done', 'Files verified and in place per dataset.', report.datasets.map((d) => [ds(d), d.files_done]));
  metric('hfhpc_files_failed', 'Files that failed per dataset.', report.datasets.map((d) => [ds(d), d.files_failed]));
  metric('hfhpc_rate_bytes_per_second', 'Transfer rate per dataset.', report.datasets.map((d) => [ds(d), d.rate_bytes_per_s]));
  metric('hfhpc_eta_seconds', 'Seconds left at the current rate per dataset.', report.datasets.map((d) => [ds(d), d.eta_s]));
  metric('hfhpc_dataset_done', '1 when every file of the dataset is done.', report.datasets.map((d) => [ds(d), d.state === 'done' ? 1 : 0]));
  metric('hfhpc_shards', 'Shards per state.', STATES.map((s) => [{ state: s }, report.shard_counts[s]]));
  metric('hfhpc_leases_expired', 'Running shards whose lease expired (dead tasks).', [[{}, report.shards.filter((s) => s.lease_expired).length]]);
  metric('hfhpc_throttled', '1 while the cluster-wide Hub pause (after a 429) is active.', [[{}, report.throttle ? 1 : 0]]);
  metric('hfhpc_status_timestamp_seconds', 'When these figures were read.', [[{}, Math.floor(Date.parse(report.generated_at) / 1000)]]);
  return `${out.join('\n')}\n`;
}

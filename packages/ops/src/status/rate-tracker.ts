import { eta } from './read-status.js';
import type { StatusReport } from './status-types.js';

interface Sample {
  at: number;
  total: number;
  byRepo: Map<string, number>;
}

/**
 * Live rate for `status --watch`: bytes_done (partial files included) sampled at every
 * refresh, rate = growth over the samples inside the window. A drop (a file reset by verify,
 * a restarted download) starts the series again rather than showing a negative rate.
 */
export class RateTracker {
  private samples: Sample[] = [];

  /** @param windowMs how far back samples count. Default 300000 (5 minutes). */
  constructor(private readonly windowMs = 300_000) {}

  /** Record the report's figures and return it with the sampled rate and ETA, once there are two samples. */
  apply(report: StatusReport): StatusReport {
    const at = Date.parse(report.generated_at);
    const sample: Sample = { at, total: report.totals.bytes_done, byRepo: new Map(report.datasets.map((d) => [d.repo, d.bytes_done])) };
    const last = this.samples[this.samples.length - 1];
    if (last && (sample.total < last.total || at <= last.at)) this.samples = [];
    this.samples.push(sample);
    this.samples = this.samples.filter((s) => s.at >= at - this.windowMs);
    const first = this.samples[0];
    const seconds = (at - first.at) / 1000;
    if (this.samples.length < 2 || seconds <= 0) return report;
    const rate = (sample.total - first.total) / seconds;
    return {
      ...report,
      rate_source: 'samples',
      rate_window_s: Math.round(seconds),
      rate_bytes_per_s: rate,
      eta_s: eta(report.totals.bytes - report.totals.bytes_done, rate, report.state),
      datasets: report.datasets.map((d) => {
        const before = first.byRepo.get(d.repo);
        if (before === undefined || d.bytes_done < before) return d;
        const r = (d.bytes_done - before) / seconds;
        return { ...d, rate_bytes_per_s: r, eta_s: eta(d.bytes - d.bytes_done, r, d.state) };
      }),
    };
  }
}

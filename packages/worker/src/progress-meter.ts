import { formatBytes } from '@hfhpc/core';
import prettyMilliseconds from 'pretty-ms';

/** Counters of one task, as shown in its `Progress:` lines. */
export interface ProgressSnapshot {
  /** Shards this task claimed so far. */
  shards: number;
  /** The shard index being worked on, if any. */
  shardIndex?: number;
  filesTotal: number;
  filesDone: number;
  filesFailed: number;
  bytesTotal: number;
  /** Bytes in place: verified, linked, or on disk in a partial file. */
  bytesDone: number;
  /** Bytes received from the network by this task. */
  bytesFetched: number;
}

export interface ProgressMeterParams {
  /** Default Date.now. */
  now?: () => number;
  /** Rate window: the rate is measured over at most this long. Default 60,000 ms. */
  windowMs?: number;
  /** Default `() => process.memoryUsage.rss()`. */
  rss?: () => number;
}

/**
 * Counts files and bytes for a task and renders the `Progress:` line. The rate is the network
 * rate over the last minute (resumed or linked bytes are not "speed"); the ETA divides what is
 * left of the claimed work by it.
 */
export class ProgressMeter {
  private readonly now: () => number;
  private readonly windowMs: number;
  private readonly rss: () => number;
  private readonly samples: { at: number; fetched: number }[] = [];
  readonly counts: ProgressSnapshot = {
    shards: 0, filesTotal: 0, filesDone: 0, filesFailed: 0, bytesTotal: 0, bytesDone: 0, bytesFetched: 0,
  };

  constructor(params: ProgressMeterParams = {}) {
    this.now = params.now ?? Date.now;
    this.windowMs = params.windowMs ?? 60_000;
    this.rss = params.rss ?? (() => process.memoryUsage.rss());
    this.samples.push({ at: this.now(), fetched: 0 });
  }

  /** A newly claimed shard adds its files; those already done count as done at once. */
  addShard(p: { index: number; files: number; bytes: number; filesDone: number; bytesDone: number }): void {
    const c = this.counts;
    c.shards++;
    c.shardIndex = p.index;
    c.filesTotal += p.files;
    c.bytesTotal += p.bytes;
    c.filesDone += p.filesDone;
    c.bytesDone += p.bytesDone;
  }

  /** Bytes that reached disk: `fetched` from the network, the rest from a partial or a link. */
  addBytes(done: number, fetched: number): void {
    this.counts.bytesDone += done;
    this.counts.bytesFetched += fetched;
  }

  fileDone(): void {
    this.counts.filesDone++;
  }

  fileFailed(): void {
    this.counts.filesFailed++;
  }

  /** Network bytes per second over the rate window. */
  rate(): number {
    const at = this.now();
    this.samples.push({ at, fetched: this.counts.bytesFetched });
    while (this.samples.length > 2 && at - this.samples[1].at >= this.windowMs) this.samples.shift();
    const first = this.samples[0];
    const dt = (at - first.at) / 1000;
    return dt > 0 ? (this.counts.bytesFetched - first.fetched) / dt : 0;
  }

  /** The line logged every `--progress-interval` seconds. */
  line(): string {
    const c = this.counts;
    const rate = this.rate();
    const left = Math.max(0, c.bytesTotal - c.bytesDone);
    const eta = left === 0 ? '0s' : rate > 0 ? prettyMilliseconds(Math.max(1, Math.round(left / rate)) * 1000, { unitCount: 2 }) : 'unknown';
    const pct = c.bytesTotal > 0 ? ((100 * c.bytesDone) / c.bytesTotal).toFixed(1) : '100.0';
    const shard = c.shardIndex === undefined ? 'no shard' : `shard ${c.shardIndex}`;
    const failed = c.filesFailed > 0 ? ` (${c.filesFailed} failed)` : '';
    return (
      `Progress: ${shard} (${c.shards} claimed): files ${c.filesDone}/${c.filesTotal}${failed}, ` +
      `bytes ${formatBytes(c.bytesDone)}/${formatBytes(c.bytesTotal)} (${pct}%), ` +
      `rate ${formatBytes(rate)}/s, ETA ${eta}, RSS ${formatBytes(this.rss())}`
    );
  }
}

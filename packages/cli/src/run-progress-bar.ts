import { formatBytes } from '@hfhpc/core';
import type { LocalProgress, LocalProgressView } from './local-progress.js';

/**
 * The live bar of `hfhpc run --local` on a terminal (stderr): the plan's bytes and files, rate
 * and ETA, with the workers' log lines printed above it. Undefined when stderr is not a
 * terminal: the workers' plain `Progress:` lines show instead.
 */
export async function runProgressBar(stream: NodeJS.WriteStream = process.stderr): Promise<LocalProgressView | undefined> {
  if (!stream.isTTY) return undefined;
  // Loaded here, not at the top: every hfhpc command imports the command modules.
  const { default: cliProgress } = await import('cli-progress');
  const bars = new cliProgress.MultiBar(
    {
      stream,
      format: 'run [{bar}] {percentage}% | {doneBytes} / {totalBytes} | files {files}{failed} | ETA {etaText}',
      hideCursor: true,
      etaBuffer: 50,
      clearOnComplete: false,
      stopOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  let bar: ReturnType<typeof bars.create> | undefined;
  let stopped = false;
  // ETA from the average rate since the bar started (cli-progress shows NULL/INF until it
  // has a rate; bytes done before this run, from an earlier run, are not rate).
  let first: { at: number; bytes: number } | undefined;
  const eta = (p: LocalProgress): string => {
    const now = Date.now();
    first ??= { at: now, bytes: p.bytesDone };
    const left = p.bytesTotal - p.bytesDone;
    if (left <= 0) return '0s';
    const rate = (p.bytesDone - first.bytes) / Math.max(1, now - first.at);
    return rate > 0 ? duration(left / rate) : '-';
  };
  return {
    update: (p: LocalProgress) => {
      if (stopped) return;
      // cli-progress owns {value}/{total}; ours have their own names.
      const payload = {
        doneBytes: formatBytes(p.bytesDone),
        totalBytes: formatBytes(p.bytesTotal),
        files: `${p.filesDone}/${p.filesTotal}`,
        failed: p.filesFailed ? ` (${p.filesFailed} failed)` : '',
        etaText: eta(p),
      };
      const total = Math.max(1, p.bytesTotal);
      if (!bar) bar = bars.create(total, 0, payload);
      bar.setTotal(total);
      bar.update(p.bytesTotal === 0 && p.filesDone === p.filesTotal ? total : p.bytesDone, payload);
    },
    log: (line: string) => {
      if (!stopped) bars.log(`${line}\n`);
      else stream.write(`${line}\n`);
    },
    stop: () => {
      if (stopped) return;
      stopped = true;
      bars.update(); // prints the lines logged since the last redraw
      bars.stop();
    },
  };
}

/** `1h 5m`, `3m 20s`, `42s` for a duration in milliseconds. */
function duration(ms: number): string {
  const s = Math.max(1, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (h > 0) return `${h}h ${m}m`;
  return m > 0 ? `${m}m ${s % 60}s` : `${s % 60}s`;
}

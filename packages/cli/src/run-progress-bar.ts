import { formatBytes } from '@hfhpc/core';
import type { LocalProgress, LocalProgressView } from '@hfhpc/worker';

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
      format: 'run [{bar}] {percentage}% | {doneBytes} / {totalBytes} | files {files}{failed} | ETA {eta_formatted}',
      hideCursor: true,
      etaBuffer: 50,
      clearOnComplete: false,
      stopOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  let bar: ReturnType<typeof bars.create> | undefined;
  let stopped = false;
  return {
    update: (p: LocalProgress) => {
      if (stopped) return;
      // cli-progress owns {value}/{total}; ours have their own names.
      const payload = {
        doneBytes: formatBytes(p.bytesDone),
        totalBytes: formatBytes(p.bytesTotal),
        files: `${p.filesDone}/${p.filesTotal}`,
        failed: p.filesFailed ? ` (${p.filesFailed} failed)` : '',
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
      bars.stop();
    },
  };
}

import { setTimeout as sleep } from 'node:timers/promises';
import type { Argv, CommandModule } from 'yargs';
import { ExitCode, escapeControls, openStore, writeFileAtomic } from '@hfhpc/core';
import type { StatusReport } from '@hfhpc/ops';
import { MANIFEST_OPTION, storedPlanConfig, type ArgsOf, type GlobalArgs } from '../global-options.js';
import { MAX_SECONDS, numberOption, parseBoundedNumber } from '../number-option.js';
import { printOut } from '../print-out.js';

/** `--watch` alone means every 5 s; a value must be 0.1 to 86400 seconds. */
function watchSeconds(v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (v === true || v === '') return 5;
  return parseBoundedNumber('--watch', v, { min: 0.1, max: MAX_SECONDS, unit: 'seconds' });
}

async function render(report: StatusReport, format: StatusArgs['format'], watching: boolean): Promise<string> {
  const { formatStatusPrometheus, formatStatusText } = await import('@hfhpc/ops');
  if (format === 'prometheus') return formatStatusPrometheus(report);
  // Watching, one compact object per line (NDJSON) so scripts can read the stream.
  if (format === 'json') return `${JSON.stringify(report, null, watching ? undefined : 2)}\n`;
  return formatStatusText(report);
}

const builder = (y: Argv<GlobalArgs>) =>
  y
    .option('manifest', MANIFEST_OPTION)
    .option('json', { type: 'boolean', default: false, describe: 'print the status object as JSON (same as --format json)' })
    .option('format', { choices: ['text', 'json', 'prometheus'] as const, default: 'text' as const, describe: 'text, json, or prometheus (node_exporter textfile metrics)' })
    .option('watch', { describe: 'refresh every N seconds (default 5) until interrupted; redraws in place on a terminal', coerce: watchSeconds })
    .option('count', numberOption('--count', { min: 1, max: 1_000_000_000, integer: true }, { describe: 'with --watch: stop after this many refreshes' }))
    .option('plan-id', numberOption('--plan-id', { min: 1, max: Number.MAX_SAFE_INTEGER, integer: true }, { describe: 'plan to report on [default: the newest]' }))
    .option('output', { type: 'string', describe: 'write to this file (replaced atomically each refresh) instead of stdout' })
    .option('rate-window', numberOption('--rate-window', { min: 1, max: 30 * 86_400, unit: 'seconds' }, { default: 300, describe: 'seconds over which the rate is measured' }))
    .option('slurm', { type: 'boolean', default: true, describe: 'ask squeue/sacct about the plan\'s jobs (--no-slurm: database only)' });
type StatusArgs = ArgsOf<typeof builder>;

export const command: CommandModule<GlobalArgs, StatusArgs> = {
  command: 'status',
  describe: 'progress per dataset and shard, rate and ETA, failures by cause, leases, Slurm job states',
  builder,
  handler: async (argv) => {
    const { cfg } = await storedPlanConfig(argv);
    const { RateTracker, collectStatus, slurmJobStates } = await import('@hfhpc/ops');
    const format = argv.json ? 'json' : argv.format;
    const store = openStore({ path: cfg.dbPath, readonly: true, create: false });
    const scheduler = argv.slurm ? slurmJobStates() : undefined;
    const tracker = argv.watch === undefined ? undefined : new RateTracker(argv['rate-window'] * 1000);
    const stop = new AbortController();
    const onSignal = (): void => stop.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    const redraw = argv.watch !== undefined && format === 'text' && !argv.output && process.stdout.isTTY;
    try {
      for (let n = 1; ; n++) {
        let report = await collectStatus({ store, planId: argv['plan-id'], rateWindowMs: argv['rate-window'] * 1000, scheduler });
        if (tracker) report = tracker.apply(report);
        const text = await render(report, format, argv.watch !== undefined);
        if (argv.output) await writeFileAtomic(argv.output, text); // a textfile collector never reads half a file
        else if (redraw) process.stdout.write(`\x1b[H\x1b[2J${escapeControls(text, { keepNewlines: true })}`);
        else printOut(argv.watch !== undefined && format === 'text' && n > 1 ? `\n${text}` : text);
        if (argv.watch === undefined || (argv.count !== undefined && n >= argv.count)) break;
        // Nothing more will change: a watch in a script (`status --watch && next-step`) ends.
        if (report.state === 'done') break;
        try {
          await sleep(argv.watch * 1000, undefined, { signal: stop.signal });
        } catch {
          break; // interrupted: a clean end of watching
        }
      }
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      store.close();
    }
    argv.exitCode = ExitCode.OK;
  },
};

import type { Argv, CommandModule } from 'yargs';
import { ExitCode, InterruptedError, formatBytes, openStore, withPlanDefaults } from '@hfhpc/core';
import type { VerifyProgress } from '@hfhpc/ops';
import { MANIFEST_OPTION, storedPlanConfig, type ArgsOf, type GlobalArgs } from '../global-options.js';
import { numberOption } from '../number-option.js';
import { printOut } from '../print-out.js';

/** A bar on stderr when it is a terminal (stdout stays clean for --json); nothing otherwise. */
async function progressBar(): Promise<{ update: (p: VerifyProgress) => void; stop: () => void }> {
  if (!process.stderr.isTTY) return { update: () => undefined, stop: () => undefined };
  // Loaded here, not at the top: every hfhpc command imports this module.
  const { default: cliProgress } = await import('cli-progress');
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: 'verify [{bar}] {percentage}% | {doneBytes} / {totalBytes} | {blobs} blobs | {bad} bad | ETA {eta_formatted}',
      hideCursor: true,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update: (p) => {
      // cli-progress owns {value}/{total}; ours have their own names.
      const payload = { doneBytes: formatBytes(p.bytesDone), totalBytes: formatBytes(p.bytesTotal), blobs: `${p.blobsDone}/${p.blobsTotal}`, bad: p.bad };
      if (!started) {
        bar.start(Math.max(1, p.bytesTotal), 0, payload);
        started = true;
      }
      bar.update(p.bytesDone, payload);
    },
    stop: () => started && bar.stop(),
  };
}

const builder = (y: Argv<GlobalArgs>) =>
  y
    .option('manifest', MANIFEST_OPTION)
    .option('dataset', { type: 'string', describe: 'only this dataset (repo id)' })
    .option('force', { type: 'boolean', default: false, describe: 're-hash files already verified' })
    .option('json', { type: 'boolean', default: false, describe: 'print the report as JSON' })
    .option('concurrency', numberOption('--concurrency', { min: 1, max: 1024, integer: true }, { describe: 'files hashed at once [default: the CPUs available]' }))
    .option('plan-id', numberOption('--plan-id', { min: 1, max: Number.MAX_SAFE_INTEGER, integer: true }, { describe: 'plan to verify [default: the newest]' }));
type VerifyArgs = ArgsOf<typeof builder>;

export const command: CommandModule<GlobalArgs, VerifyArgs> = {
  command: 'verify',
  describe: 're-hash the files on disk against the plan; bad or missing files go back to pending (exit 1)',
  builder,
  handler: async (argv) => {
    const { cfg } = await storedPlanConfig(argv);
    const { formatVerify, planDefaults, runVerify } = await import('@hfhpc/ops');
    const store = openStore({ path: cfg.dbPath, create: false });
    const { root } = withPlanDefaults(cfg, planDefaults(store, argv['plan-id']));
    const stop = new AbortController();
    const onSignal = (sig: NodeJS.Signals): void => stop.abort(new InterruptedError(`verify interrupted by ${sig}; files checked so far are recorded`, { hint: 'run `hfhpc verify` again to go on' }));
    for (const s of ['SIGINT', 'SIGTERM', 'SIGUSR1'] as const) process.once(s, onSignal);
    const bar = argv.quiet || argv.json ? { update: () => undefined, stop: () => undefined } : await progressBar();
    let report;
    try {
      report = await runVerify({ store, root, planId: argv['plan-id'], dataset: argv.dataset, force: argv.force, concurrency: argv.concurrency, onProgress: bar.update, signal: stop.signal });
    } catch (err) {
      throw stop.signal.aborted ? stop.signal.reason : err;
    } finally {
      bar.stop();
      for (const s of ['SIGINT', 'SIGTERM', 'SIGUSR1'] as const) process.off(s, onSignal);
      store.close();
    }
    printOut(argv.json ? `${JSON.stringify(report, null, 2)}\n` : formatVerify(report));
    argv.exitCode = report.bad.length ? ExitCode.FAILED : ExitCode.OK;
  },
};

import { fileURLToPath } from 'node:url';
import type { Argv, CommandModule } from 'yargs';
import { UsageError, loadManifest } from '@hfhpc/core';
import { commandLogger, runtimeArgv, runtimeConfig, type ArgsOf, type GlobalArgs } from '../global-options.js';
import { MAX_SECONDS, numberOption } from '../number-option.js';
import { runProgressBar } from '../run-progress-bar.js';

const builder = (y: Argv<GlobalArgs>) =>
  y
    .option('manifest', { type: 'string', demandOption: true, describe: 'manifest file (YAML or JSON)' })
    .option('local', { type: 'boolean', default: false, describe: 'run the array tasks here, as child processes (required: on a cluster use plan --submit)' })
    .option('jobs', numberOption('--jobs', { min: 1, max: 256, integer: true }, { alias: 'j', default: 2, describe: 'array tasks running at once (the array\'s %W)' }))
    .option('shards', numberOption('--shards', { min: 1, max: 10_000_000, integer: true }, { describe: 'number of shards [default: the manifest, else 4 per worker]' }))
    .option('shard-size', { type: 'string', describe: 'bytes per shard, e.g. 200GB (instead of --shards)' })
    .option('concurrency', numberOption('--concurrency', { min: 1, max: 1024, integer: true }, { describe: 'files each worker downloads at once [default: the CPUs available]' }))
    .option('lease-ttl', numberOption('--lease-ttl', { min: 1, max: MAX_SECONDS, integer: true, unit: 'seconds' }, { describe: 'lease lifetime in seconds [default 120]' }))
    .option('worker-heap', numberOption('--worker-heap', { min: 32, max: 1_048_576, integer: true, unit: 'MiB' }, { describe: 'V8 heap cap of each task\'s worker in MiB (its old generation); raise it only if a worker dies with "JavaScript heap out of memory" [default 48]' }))
    .option('progress-interval', numberOption('--progress-interval', { min: 1, max: MAX_SECONDS, integer: true, unit: 'seconds' }, { describe: 'seconds between Progress: lines [default 30]' }))
    .option('force', { type: 'boolean', default: false, describe: 'every file back to pending: blobs on disk are hashed again and fetched again unless they match' });
type RunArgs = ArgsOf<typeof builder>;

export const command: CommandModule<GlobalArgs, RunArgs> = {
  command: 'run',
  describe: 'plan, then run its download.sbatch on this machine, W workers at once (no Slurm)',
  builder,
  handler: async (argv) => {
    if (!argv.local) {
      throw new UsageError('hfhpc run needs --local: it runs the job on this machine', { hint: 'on a Slurm cluster use hfhpc plan --manifest F --submit' });
    }
    if (!Number.isSafeInteger(argv.jobs) || argv.jobs < 1) {
      throw new UsageError(`Expected -j to be a positive integer, got \`${String(argv.jobs)}\``);
    }
    const globals = runtimeArgv(argv);
    const manifest = await loadManifest(argv.manifest);
    const cfg = runtimeConfig(argv, { manifest });
    const logger = commandLogger(cfg);
    const { planDownload } = await import('@hfhpc/planner');
    const { LocalScheduler } = await import('@hfhpc/scheduler');
    const { runScriptsLocally } = await import('../run-scripts-locally.js');
    // Several shards per worker let idle workers steal, unless the user or manifest chose.
    const chosen = argv.shards !== undefined || argv['shard-size'] !== undefined || manifest.shards !== undefined || manifest.shardSize !== undefined;
    const plan = await planDownload({
      manifestPath: argv.manifest,
      argv: globals,
      shards: chosen ? argv.shards : argv.jobs * 4,
      shardSize: argv['shard-size'],
      // The array's %K: at most -j tasks at once, as on a cluster.
      maxParallel: argv.jobs,
      // The local scheduler takes any array size: no `scontrol show config` (seconds when no controller answers).
      askSlurm: false,
      force: argv.force,
      work: { concurrency: argv.concurrency, leaseTtlSeconds: argv['lease-ttl'], heapMib: argv['worker-heap'], progressIntervalSeconds: argv['progress-interval'] },
      // The same hfhpc entry `hfhpc plan` writes into the scripts it renders for a cluster.
      hfhpcBin: fileURLToPath(new URL('../bin.js', import.meta.url)),
      logger,
    });
    if (plan.planId === null) throw new UsageError('the plan was not stored');
    const result = await runScriptsLocally({
      scripts: plan.scripts,
      planId: plan.planId,
      dbPath: plan.dbPath,
      // The tasks log as this command does; sbatch too hands the submitting shell's environment on.
      scheduler: new LocalScheduler({
        env: { ...process.env, HFHPC_LOG_FORMAT: cfg.logFormat, HFHPC_LOG_LEVEL: cfg.logLevel, HFHPC_QUIET: cfg.quiet ? '1' : '0' },
      }),
      log: logger,
      // On a terminal a live bar (the tasks' other lines above it); otherwise their plain lines.
      view: cfg.quiet || cfg.logFormat !== 'text' ? undefined : await runProgressBar(),
    });
    argv.exitCode = result.exitCode;
  },
};

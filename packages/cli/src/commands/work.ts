import type { Argv, CommandModule } from 'yargs';
import { ExitCode } from '@hfhpc/core';
import { removeEarlyStop } from '../early-stop.js';
import { commandLogger, runtimeConfig, type ArgsOf, type GlobalArgs } from '../global-options.js';
import { MAX_SECONDS, numberOption } from '../number-option.js';

const builder = (y: Argv<GlobalArgs>) =>
  y
    .option('task-id', numberOption('--task-id', { min: 0, max: 2_147_483_647, integer: true }, { describe: 'shard index to claim first [default: $SLURM_ARRAY_TASK_ID + task offset]' }))
    .option('task-offset', numberOption('--task-offset', { min: 0, max: 2_147_483_647, integer: true }, { describe: 'added to $SLURM_ARRAY_TASK_ID when one plan spans several arrays [env HFHPC_TASK_OFFSET; default 0]' }))
    .option('plan-id', numberOption('--plan-id', { min: 1, max: Number.MAX_SAFE_INTEGER, integer: true }, { describe: 'plan to work on [default: the latest]' }))
    .option('concurrency', numberOption('--concurrency', { min: 1, max: 1024, integer: true }, { describe: 'files downloaded at once [default: $SLURM_CPUS_PER_TASK, else the CPUs available]' }))
    .option('connections-per-file', numberOption('--connections-per-file', { min: 1, max: 64, integer: true }, { describe: 'most ranged connections one large file (64 MiB and more) uses at once; 1: one connection per file [default: 8]' }))
    .option('lease-ttl', numberOption('--lease-ttl', { min: 1, max: MAX_SECONDS, unit: 'seconds' }, { default: 120, describe: 'lease lifetime in seconds (1 to 86400); renewed every quarter of it' }))
    .option('steal', { type: 'boolean', default: true, describe: 'after the own shard, take pending or expired shards (--no-steal: stop)' })
    .option('progress-interval', numberOption('--progress-interval', { min: 1, max: MAX_SECONDS, unit: 'seconds' }, { default: 30, describe: 'seconds between Progress: log lines (1 to 86400)' }));
type WorkArgs = ArgsOf<typeof builder>;

export const command: CommandModule<GlobalArgs, WorkArgs> = {
  command: 'work',
  describe: 'run one array task: lease shards, download, verify and place their files',
  builder,
  handler: async (argv) => {
    const env = process.env;
    const cfg = runtimeConfig(argv, { env });
    const logger = commandLogger(cfg);
    const { runWorker, watchSignals } = await import('@hfhpc/worker');
    // Slurm sends KILL 10 s after TERM: if releasing the lease hangs on the filesystem, exit
    // anyway so the task is requeued rather than killed mid-write.
    const signals = watchSignals({
      onSignal: (sig) => logger.warn(`${sig} received: stopping new work, releasing the lease`),
      onDeadline: () => {
        process.stderr.write('hfhpc: still busy 9 s after the stop signal; exiting without waiting (exit 75)\n');
        process.exit(ExitCode.INTERRUPTED);
      },
    });
    removeEarlyStop();
    await runWorker({
      dbPath: cfg.dbPath,
      // Without an explicit root or hub URL the plan's own are used (the plan knows best).
      root: cfg.rootGiven ? cfg.root : undefined,
      hubUrl: cfg.hubUrlGiven ? cfg.hubUrl : undefined,
      planId: argv['plan-id'],
      taskId: argv['task-id'],
      taskOffset: argv['task-offset'],
      concurrency: argv.concurrency,
      connectionsPerFile: argv['connections-per-file'],
      leaseTtlSeconds: argv['lease-ttl'],
      steal: argv.steal,
      progressIntervalSeconds: argv['progress-interval'],
      env,
      logger,
      signals,
    });
    argv.exitCode = ExitCode.OK;
  },
};

import { fileURLToPath } from 'node:url';
import type { CommandModule } from 'yargs';
import { UsageError, createLogger, loadManifest, resolveRuntimeConfig, shortHostname } from '@hfhpc/core';
import { planDownload } from '@hfhpc/planner';
import { runLocal } from '@hfhpc/worker';
import type { GlobalArgs } from '../global-options.js';

interface RunArgs extends GlobalArgs {
  manifest: string;
  local: boolean;
  jobs: number;
  shards?: number;
  'shard-size'?: string;
  concurrency?: number;
  'lease-ttl'?: number;
  'progress-interval'?: number;
  force: boolean;
}

export const command: CommandModule<GlobalArgs, RunArgs> = {
  command: 'run',
  describe: 'plan, then run the whole job on this machine with W local workers (no Slurm)',
  builder: (y) =>
    y
      .option('manifest', { type: 'string', demandOption: true, describe: 'manifest file (YAML or JSON)' })
      .option('local', { type: 'boolean', default: false, describe: 'run the workers here, as child processes (required: on a cluster use plan --submit)' })
      .option('jobs', { alias: 'j', type: 'number', default: 2, describe: 'local worker processes (task ids 0..W-1)' })
      .option('shards', { type: 'number', describe: 'number of shards [default: the manifest, else 4 per worker]' })
      .option('shard-size', { type: 'string', describe: 'bytes per shard, e.g. 200GB (instead of --shards)' })
      .option('concurrency', { type: 'number', describe: 'files each worker downloads at once [default: the CPUs available]' })
      .option('lease-ttl', { type: 'number', describe: 'lease lifetime in seconds [default 120]' })
      .option('progress-interval', { type: 'number', describe: 'seconds between Progress: lines [default 30]' })
      .option('force', { type: 'boolean', default: false, describe: 'download every file again' }) as never,
  handler: async (argv) => {
    if (!argv.local) {
      throw new UsageError('hfhpc run needs --local: it runs the job on this machine', { hint: 'on a Slurm cluster use hfhpc plan --manifest F --submit' });
    }
    if (!Number.isSafeInteger(argv.jobs) || argv.jobs < 1) {
      throw new UsageError(`Expected -j to be a positive integer, got \`${String(argv.jobs)}\``);
    }
    const globals = { root: argv.root, db: argv.db, hubUrl: argv['hub-url'], logFormat: argv['log-format'], logLevel: argv['log-level'], quiet: argv.quiet };
    const cfg = resolveRuntimeConfig({ argv: globals });
    const logger = createLogger({ format: cfg.logFormat, level: cfg.logLevel, quiet: cfg.quiet, context: { host: shortHostname() } });
    // Several shards per worker let idle workers steal, unless the user or manifest chose.
    const manifest = await loadManifest(argv.manifest);
    const chosen = argv.shards !== undefined || argv['shard-size'] !== undefined || manifest.shards !== undefined || manifest.shardSize !== undefined;
    const plan = await planDownload({
      manifestPath: argv.manifest,
      argv: globals,
      shards: chosen ? argv.shards : argv.jobs * 4,
      shardSize: argv['shard-size'],
      force: argv.force,
      logger,
    });
    if (plan.planId === null) throw new UsageError('the plan was not stored');
    const pass = (flag: string, v: number | undefined): string[] => (v === undefined ? [] : [flag, String(v)]);
    const result = await runLocal({
      workers: argv.jobs,
      planId: plan.planId,
      dbPath: plan.dbPath,
      root: plan.root,
      hubUrl: plan.hubUrl,
      cliPath: fileURLToPath(new URL('../bin.js', import.meta.url)),
      workArgs: [
        ...pass('--concurrency', argv.concurrency),
        ...pass('--lease-ttl', argv['lease-ttl']),
        ...pass('--progress-interval', argv['progress-interval']),
        '--log-format', cfg.logFormat, '--log-level', cfg.logLevel, ...(cfg.quiet ? ['--quiet'] : []),
      ],
      log: logger,
    });
    argv.exitCode = result.exitCode;
  },
};

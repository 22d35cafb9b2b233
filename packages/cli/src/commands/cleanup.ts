import type { CommandModule } from 'yargs';
import { ExitCode, UsageError, openStore, withPlanDefaults } from '@hfhpc/core';
import { runtimeConfig, type GlobalArgs } from '../global-options.js';
import { printOut } from '../print-out.js';

interface CleanupArgs extends GlobalArgs {
  'dry-run': boolean;
  json: boolean;
  'remove-resumable': boolean;
  'events-days': number;
}

export const command: CommandModule<GlobalArgs, CleanupArgs> = {
  command: 'cleanup',
  describe: 'expire dead leases, remove orphaned partial files and old events (never complete blobs)',
  builder: (y) =>
    y
      .option('dry-run', { type: 'boolean', default: false, describe: 'show what would be done; change nothing' })
      .option('json', { type: 'boolean', default: false, describe: 'print the report as JSON' })
      .option('remove-resumable', { type: 'boolean', default: false, describe: 'also remove partial files the next task would resume' })
      .option('events-days', { type: 'number', default: 30, describe: 'delete events older than this many days' }) as never,
  handler: async (argv) => {
    if (!(argv['events-days'] >= 0)) throw new UsageError(`Expected \`--events-days\` to be a non-negative number, got \`${argv['events-days']}\``);
    const cfg = runtimeConfig(argv);
    // --dry-run writes nothing, not even a migration.
    const { formatCleanup, planDefaults, runCleanup } = await import('@hfhpc/planner');
    const store = openStore({ path: cfg.dbPath, create: false, readonly: argv['dry-run'] });
    try {
      const { root } = withPlanDefaults(cfg, planDefaults(store.db));
      const report = await runCleanup({
        store,
        root,
        dryRun: argv['dry-run'],
        removeResumable: argv['remove-resumable'],
        eventsMaxAgeMs: argv['events-days'] * 86_400_000,
      });
      printOut(argv.json ? `${JSON.stringify(report, null, 2)}\n` : formatCleanup(report, { root }));
    } finally {
      store.close();
    }
    argv.exitCode = ExitCode.OK;
  },
};

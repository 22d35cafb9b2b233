import type { CommandModule } from 'yargs';
import { ExitCode, openStore, withPlanDefaults } from '@hfhpc/core';
import { MANIFEST_OPTION, storedPlanConfig, type GlobalArgs } from '../global-options.js';
import { numberOption } from '../number-option.js';

interface CleanupArgs extends GlobalArgs {
  manifest?: string;
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
      .option('manifest', MANIFEST_OPTION)
      .option('dry-run', { type: 'boolean', default: false, describe: 'show what would be done; change nothing' })
      .option('json', { type: 'boolean', default: false, describe: 'print the report as JSON' })
      .option('remove-resumable', { type: 'boolean', default: false, describe: 'also remove partial files the next task would resume' })
      .option('events-days', numberOption('--events-days', { min: 0, max: 36_500, unit: 'days' }, { default: 30, describe: 'delete events older than this many days' })) as never,
  handler: async (argv) => {
    const { cfg } = await storedPlanConfig(argv);
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
      process.stdout.write(argv.json ? `${JSON.stringify(report, null, 2)}\n` : formatCleanup(report, { root }));
    } finally {
      store.close();
    }
    argv.exitCode = ExitCode.OK;
  },
};

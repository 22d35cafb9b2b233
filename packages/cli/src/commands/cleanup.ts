import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import type { Argv, CommandModule } from 'yargs';
import { DiskError, ExitCode, openStore, withPlanDefaults } from '@hfhpc/core';
import { MANIFEST_OPTION, storedPlanConfig, type ArgsOf, type GlobalArgs } from '../global-options.js';
import { numberOption } from '../number-option.js';
import { printOut } from '../print-out.js';

/** Cleanup removes files under the root: a read-only or foreign root is refused up front (exit 1). */
async function assertCanChange(root: string): Promise<void> {
  try {
    await access(root, constants.W_OK | constants.X_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    const why = code === 'EROFS' ? 'a read-only file system' : code === 'ENOENT' ? 'missing' : `not writable (${code})`;
    throw new DiskError(`cleanup cannot change the download root ${root}: it is ${why}`, {
      cause: err,
      hint: 'run cleanup where the root is mounted writable, or add --dry-run to see what it would do',
      context: { path: root, code },
    });
  }
}

const builder = (y: Argv<GlobalArgs>) =>
  y
    .option('manifest', MANIFEST_OPTION)
    .option('dry-run', { type: 'boolean', default: false, describe: 'show what would be done; change nothing' })
    .option('json', { type: 'boolean', default: false, describe: 'print the report as JSON' })
    .option('remove-resumable', { type: 'boolean', default: false, describe: 'also remove partial files the next task would resume' })
    .option('events-days', numberOption('--events-days', { min: 0, max: 36_500, unit: 'days' }, { default: 30, describe: 'delete events older than this many days' }));
type CleanupArgs = ArgsOf<typeof builder>;

export const command: CommandModule<GlobalArgs, CleanupArgs> = {
  command: 'cleanup',
  describe: 'expire dead leases, remove orphaned partial files and old events (never complete blobs)',
  builder,
  handler: async (argv) => {
    const { cfg } = await storedPlanConfig(argv);
    // --dry-run writes nothing, not even a migration.
    const { formatCleanup, planDefaults, runCleanup } = await import('@hfhpc/ops');
    const store = openStore({ path: cfg.dbPath, create: false, readonly: argv['dry-run'] });
    try {
      const { root } = withPlanDefaults(cfg, planDefaults(store));
      if (!argv['dry-run']) await assertCanChange(root);
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

import type { Argv, CommandModule } from 'yargs';
import { ExitCode, inspectDatabase, withPlanDefaults } from '@hfhpc/core';
import { runtimeConfig, type ArgsOf, type GlobalArgs } from '../global-options.js';
import { printOut } from '../print-out.js';

/** The newest plan's root and hub URL, when the database exists and can be read. */
async function fromPlan(dbPath: string): Promise<{ root: string; hubUrl: string } | undefined> {
  try {
    const db = inspectDatabase(dbPath);
    if (!db) return undefined;
    try {
      return db.planDefaults();
    } finally {
      db.close();
    }
  } catch {
    return undefined; // the database checks say why
  }
}

const builder = (y: Argv<GlobalArgs>) =>
  y
    .option('json', { type: 'boolean', default: false, describe: 'print the checks as JSON' })
    .option('timeout', { type: 'number', default: 15, describe: 'seconds allowed per network request' });
type DoctorArgs = ArgsOf<typeof builder>;

export const command: CommandModule<GlobalArgs, DoctorArgs> = {
  command: 'doctor',
  describe: 'health checks, one line each: node, token, Hub, root, space, SQLite locking, database, Slurm',
  builder,
  handler: async (argv) => {
    const env = process.env;
    const cfg = runtimeConfig(argv, { env });
    const { formatDoctor, runDoctor } = await import('@hfhpc/ops');
    const plan = await fromPlan(cfg.dbPath);
    const report = await runDoctor({
      ...withPlanDefaults(cfg, plan),
      dbPath: cfg.dbPath,
      env,
      timeoutMs: argv.timeout * 1000,
    });
    printOut(argv.json ? `${JSON.stringify(report, null, 2)}\n` : formatDoctor(report));
    argv.exitCode = report.ok ? ExitCode.OK : ExitCode.FAILED;
  },
};

import type { CommandModule } from 'yargs';
import { ExitCode, resolveRuntimeConfig } from '@hfhpc/core';
import { formatDoctor, openDbReadonly, planDefaults, runDoctor } from '@hfhpc/planner';
import type { GlobalArgs } from '../global-options.js';

interface DoctorArgs extends GlobalArgs {
  json: boolean;
  timeout: number;
}

/** The newest plan's root and hub URL, when the database exists and can be read. */
function fromPlan(dbPath: string): { root: string; hubUrl: string } | undefined {
  try {
    const db = openDbReadonly(dbPath);
    if (!db) return undefined;
    try {
      return planDefaults(db);
    } finally {
      db.close();
    }
  } catch {
    return undefined; // the database checks say why
  }
}

export const command: CommandModule<GlobalArgs, DoctorArgs> = {
  command: 'doctor',
  describe: 'health checks, one line each: node, token, Hub, root, space, SQLite locking, database, Slurm',
  builder: (y) =>
    y
      .option('json', { type: 'boolean', default: false, describe: 'print the checks as JSON' })
      .option('timeout', { type: 'number', default: 15, describe: 'seconds allowed per network request' }) as never,
  handler: async (argv) => {
    const env = process.env;
    const cfg = resolveRuntimeConfig({ argv: { root: argv.root, db: argv.db, hubUrl: argv['hub-url'], logFormat: argv['log-format'], logLevel: argv['log-level'], quiet: argv.quiet }, env });
    const plan = fromPlan(cfg.dbPath);
    const given = (flag: string | undefined, name: string): boolean => flag !== undefined || Boolean(env[name]?.trim());
    const report = await runDoctor({
      root: given(argv.root, 'HFHPC_ROOT') ? cfg.root : (plan?.root ?? cfg.root),
      dbPath: cfg.dbPath,
      hubUrl: given(argv['hub-url'], 'HF_ENDPOINT') ? cfg.hubUrl : (plan?.hubUrl ?? cfg.hubUrl),
      env,
      timeoutMs: argv.timeout * 1000,
    });
    process.stdout.write(argv.json ? `${JSON.stringify(report, null, 2)}\n` : formatDoctor(report));
    argv.exitCode = report.ok ? ExitCode.OK : ExitCode.FAILED;
  },
};

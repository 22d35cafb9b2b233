import { createRequire } from 'node:module';
import type { Argv } from 'yargs';
import { ExitCode, HfhpcError, UsageError, toHfhpcError } from '@hfhpc/core';
import { globalOptions, type GlobalArgs } from './global-options.js';
import { command as workCommand } from './commands/work.js';
import { command as runCommand } from './commands/run.js';
import { command as planCommand } from './commands/plan.js';
import { command as statusCommand } from './commands/status.js';
import { command as verifyCommand } from './commands/verify.js';
import { command as cleanupCommand } from './commands/cleanup.js';
import { command as doctorCommand } from './commands/doctor.js';

// yargs's ESM build wraps help text with a stand-in that cuts words at the column ("HPC cluste /
// r"); its CommonJS build uses wrap-ansi, which wraps at word boundaries.
const yargs = createRequire(import.meta.url)('yargs') as typeof import('yargs').default;

/** Parse argv, run the command, return the exit code. Never calls process.exit. */
export async function main(argv: string[]): Promise<number> {
  try {
    const y = yargs(argv);
    const cli: Argv<GlobalArgs> = globalOptions(y)
      .scriptName('hfhpc')
      // The terminal's width when stdout is one; 80 columns in a pipe or a file.
      .wrap(y.terminalWidth() || 80)
      .usage('$0 <command> [options]\n\nDownload Hugging Face Hub datasets onto an HPC cluster as a Slurm job array.')
      .demandCommand(1, 'name a command; see hfhpc --help')
      .recommendCommands()
      .strict()
      .fail((msg, err) => {
        // yargs wraps what an option's coerce throws (our bounds checks) in its own error:
        // either way it is bad input, exit 2, never an internal error.
        if (err && !(err instanceof HfhpcError) && err.name === 'YError') throw new UsageError(err.message, { hint: 'see hfhpc --help' });
        throw err ?? new UsageError(msg, { hint: 'see hfhpc --help' });
      })
      .help()
      .version(false)
      // One module per command under ./commands; each exports `command` with its own option
      // types, so each is registered by its own call. In the order `--help` lists them.
      .command(planCommand)
      .command(workCommand)
      .command(runCommand)
      .command(statusCommand)
      .command(verifyCommand)
      .command(cleanupCommand)
      .command(doctorCommand);
    const result = await cli.parseAsync();
    // A handler may set the exit code it wants through `exitCode` on argv.
    return typeof result.exitCode === 'number' ? result.exitCode : ExitCode.OK;
  } catch (err) {
    const e = toHfhpcError(err);
    process.stderr.write(`hfhpc: ${e.toUserString()}\n`);
    return e.exitCode;
  }
}

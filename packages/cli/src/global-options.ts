import type { Argv } from 'yargs';
import { createLogger, loadManifest, resolveRuntimeConfig, shortHostname, type Logger, type RuntimeArgv, type RuntimeConfig } from '@hfhpc/core';

/** Options every command takes; each also comes from the environment (README, global options). */
function withGlobalOptions(y: Argv) {
  return y
    .option('root', { type: 'string', describe: 'download root, a Hugging Face hub cache dir [env HFHPC_ROOT; else the manifest root; else ./datasets]', global: true })
    .option('db', { type: 'string', describe: 'state database [env HFHPC_DB; else <root>/_hfhpc/state.sqlite]', global: true })
    .option('hub-url', { type: 'string', describe: 'Hub base URL [env HF_ENDPOINT; else https://huggingface.co]', global: true })
    .option('log-format', { choices: ['text', 'json'] as const, describe: 'log format [env HFHPC_LOG_FORMAT; default text]', global: true })
    .option('log-level', { type: 'string', describe: 'error, warn, info, debug [env HFHPC_LOG_LEVEL; default info]', global: true })
    .option('quiet', { type: 'boolean', describe: 'only errors [env HFHPC_QUIET]', global: true });
}

/** The parsed options an `Argv` built by `builder` hands its command's handler. */
export type ArgsOf<B extends (y: never) => unknown> = ReturnType<B> extends Argv<infer T> ? T : never;

/** The global options as parsed, plus `exitCode`, which a handler sets to choose the process exit code. */
export type GlobalArgs = ArgsOf<typeof withGlobalOptions> & { exitCode?: number };

export function globalOptions(y: Argv): Argv<GlobalArgs> {
  return withGlobalOptions(y);
}

/** The shared settings from the global options, the environment and (for plan/run) the manifest. */
export function runtimeConfig(
  argv: GlobalArgs,
  options: { env?: NodeJS.ProcessEnv; manifest?: { root?: string } } = {},
): RuntimeConfig {
  return resolveRuntimeConfig({ argv: runtimeArgv(argv), env: options.env, manifest: options.manifest });
}

/**
 * The settings of a command that works on a stored plan (status, verify, cleanup,
 * plan --resubmit-failed): with `--manifest M`, the manifest's root locates the database
 * unless `--root`/`HFHPC_ROOT` (or `--db`/`HFHPC_DB`) say otherwise.
 */
export async function storedPlanConfig(argv: GlobalArgs & { manifest?: string }): Promise<{ cfg: RuntimeConfig; manifest?: { root?: string } }> {
  const manifest = argv.manifest === undefined ? undefined : await loadManifest(argv.manifest);
  return { cfg: runtimeConfig(argv, { manifest }), manifest };
}

/** `--manifest` as status, verify and cleanup take it. */
export const MANIFEST_OPTION = {
  type: 'string',
  describe: 'manifest file: its root locates the state database (--root and HFHPC_ROOT win)',
} as const;

/** The global options in the shape core's runtime config takes. */
export function runtimeArgv(argv: GlobalArgs): RuntimeArgv {
  return { root: argv.root, db: argv.db, hubUrl: argv['hub-url'], logFormat: argv['log-format'], logLevel: argv['log-level'], quiet: argv.quiet };
}

/** The command's logger, per the resolved settings; lines carry the host. */
export function commandLogger(cfg: RuntimeConfig): Logger {
  return createLogger({ format: cfg.logFormat, level: cfg.logLevel, quiet: cfg.quiet, context: { host: shortHostname() } });
}

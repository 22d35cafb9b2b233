// The settings every command shares, resolved once with this precedence:
// command line > environment > manifest > default.
import path from 'node:path';
import { UsageError } from './errors.js';
import { DEFAULT_HUB_URL, assertHubUrl } from './hub-url.js';
import { assertLogLevel, type LogFormat, type LogLevel } from './logger.js';

export interface RuntimeArgv {
  root?: string;
  db?: string;
  hubUrl?: string;
  logFormat?: string;
  logLevel?: string;
  quiet?: boolean;
}

export interface RuntimeConfig {
  /** Absolute download root (a hub cache directory). */
  root: string;
  /** Absolute path of the state database. */
  dbPath: string;
  /** Validated Hub base URL without trailing `/`. */
  hubUrl: string;
  logFormat: LogFormat;
  logLevel: LogLevel;
  quiet: boolean;
  /** The root came from `--root` or `HFHPC_ROOT` (a stored plan's root ranks below it, above defaults). */
  rootGiven: boolean;
  /** The hub URL came from `--hub-url` or `HF_ENDPOINT` (likewise for a plan's hub URL). */
  hubUrlGiven: boolean;
}

export interface ResolveRuntimeConfigParams {
  /** Parsed global options; absent means "not given". */
  argv?: RuntimeArgv;
  /** Default: `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** A loaded manifest, whose `root` (already absolute) ranks below `--root` and `HFHPC_ROOT`. */
  manifest?: { root?: string };
  /** Relative command-line and environment paths resolve against this. Default: `process.cwd()`. */
  cwd?: string;
}

/** The first value that is a non-empty string. */
function pick(...values: (string | undefined)[]): string | undefined {
  return values.find((v) => v !== undefined && v.trim() !== '')?.trim();
}

function parseBool(value: string, name: string): boolean {
  const v = value.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(v)) return false;
  throw new UsageError(`invalid ${name} ${JSON.stringify(value)}`, { hint: 'use 1 or 0' });
}

/**
 * Resolve the shared settings:
 * root: `--root` > `HFHPC_ROOT` > manifest `root` > `./datasets`;
 * dbPath: `--db` > `HFHPC_DB` > `<root>/_hfhpc/state.sqlite`;
 * hubUrl: `--hub-url` > `HF_ENDPOINT` > `https://huggingface.co` (validated, trailing `/` stripped);
 * logFormat / logLevel / quiet: option > `HFHPC_LOG_FORMAT` / `HFHPC_LOG_LEVEL` / `HFHPC_QUIET` > text / info / false.
 * Throws `UsageError` for a bad hub URL, log format or level.
 */
export function resolveRuntimeConfig(params: ResolveRuntimeConfigParams = {}): RuntimeConfig {
  const argv = params.argv ?? {};
  const env = params.env ?? process.env;
  const cwd = params.cwd ?? process.cwd();
  const root = path.resolve(cwd, pick(argv.root, env.HFHPC_ROOT, params.manifest?.root) ?? 'datasets');
  const dbPath = path.resolve(cwd, pick(argv.db, env.HFHPC_DB) ?? path.join(root, '_hfhpc', 'state.sqlite'));
  const hubUrl = assertHubUrl(pick(argv.hubUrl, env.HF_ENDPOINT) ?? DEFAULT_HUB_URL);
  const logFormat = pick(argv.logFormat, env.HFHPC_LOG_FORMAT) ?? 'text';
  if (logFormat !== 'text' && logFormat !== 'json') {
    throw new UsageError(`invalid log format ${JSON.stringify(logFormat)}`, { hint: 'use --log-format text or json' });
  }
  const logLevel = assertLogLevel(pick(argv.logLevel, env.HFHPC_LOG_LEVEL) ?? 'info');
  const quiet = argv.quiet ?? (env.HFHPC_QUIET !== undefined ? parseBool(env.HFHPC_QUIET, 'HFHPC_QUIET') : false);
  const rootGiven = pick(argv.root, env.HFHPC_ROOT) !== undefined;
  const hubUrlGiven = pick(argv.hubUrl, env.HF_ENDPOINT) !== undefined;
  return { root, dbPath, hubUrl, logFormat, logLevel, quiet, rootGiven, hubUrlGiven };
}

/**
 * Root and hub URL for a command working on a stored plan: what was given (option or
 * environment) wins, then the plan's own, then the defaults `cfg` already holds.
 */
export function withPlanDefaults(cfg: RuntimeConfig, plan?: { root: string; hubUrl: string }): { root: string; hubUrl: string } {
  return {
    root: cfg.rootGiven ? cfg.root : (plan?.root ?? cfg.root),
    hubUrl: cfg.hubUrlGiven ? cfg.hubUrl : (plan?.hubUrl ?? cfg.hubUrl),
  };
}

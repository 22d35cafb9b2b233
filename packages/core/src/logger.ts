// Logging through winston: text lines for people, JSON lines for machines (`--log-format json`).
// Every line names the plan, task and host when known, so the logs of a thousand array tasks
// can be merged and still read. Secrets are redacted from the finished line, last of all, so no
// field or format can smuggle the token out. Logs go to stderr: stdout stays clean for `--json`.
import { createRequire } from 'node:module';
import os from 'node:os';
import type { Writable } from 'node:stream';
import type winstonType from 'winston';
import { HfhpcError, UsageError } from './errors.js';
import { escapeControls } from './escape-controls.js';
import { redact } from './secrets.js';

export type LogFormat = 'text' | 'json';
/** winston's npm levels, most severe first. */
export const LOG_LEVELS = ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type Logger = winstonType.Logger;

// winston is required when the first logger is made, not when core is imported: commands that
// log nothing (`status`, `--help`) do not pay for loading it.
let winstonModule: typeof winstonType | undefined;
const loadWinston = (): typeof winstonType => (winstonModule ??= createRequire(import.meta.url)('winston') as typeof winstonType);

export interface LogContext {
  planId?: number | string;
  taskId?: number | string;
  host?: string;
}

export interface CreateLoggerParams {
  /** `text` (human) or `json` (one object per line). Default: `text`. */
  format?: LogFormat;
  /** Lowest level written. Default: `info`. */
  level?: string;
  /** Only errors. Default: false. */
  quiet?: boolean;
  /** Where lines go. Default: `process.stderr`. */
  stream?: Writable;
  /** Plan, task and host stamped on every line; `logger.child({...})` adds more later. */
  context?: LogContext;
  /** Clock for timestamps. Default: `() => new Date()`. */
  now?: () => Date;
  /** Colour the level in text lines. Default: when the stream is a TTY and `NO_COLOR` is unset. */
  color?: boolean;
}

const MESSAGE = Symbol.for('message');
const CONTEXT_KEYS = new Set(['planId', 'taskId', 'host']);
const RESERVED = new Set(['level', 'message', 'stack', ...CONTEXT_KEYS]);
const COLORS: Record<string, string> = { error: '31', warn: '33', info: '32', debug: '90', verbose: '90', silly: '90', http: '36' };

/** Validate a level name (`--log-level`); throws `UsageError` naming the valid ones. */
export function assertLogLevel(level: string): LogLevel {
  if ((LOG_LEVELS as readonly string[]).includes(level)) return level as LogLevel;
  throw new UsageError(`invalid log level ${JSON.stringify(level)}`, { hint: `use one of ${LOG_LEVELS.join(', ')}` });
}

// Errors become their message (and code); everything else must survive JSON.stringify.
function plain(value: unknown): unknown {
  if (value instanceof HfhpcError) return { code: value.code, message: value.message, hint: value.hint };
  if (value instanceof Error) return { message: value.message };
  if (typeof value === 'bigint') return value.toString();
  return value;
}

function fields(info: Record<string, unknown>): [string, unknown][] {
  return Object.keys(info)
    .filter((k) => !RESERVED.has(k) && info[k] !== undefined)
    .map((k) => [k, plain(info[k])]);
}

function isoSeconds(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function textValue(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  if (v !== null && typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** `2026-11-28T13:00:00Z info [plan 7 task 3 node12] message k=v` */
function textLine(info: Record<string, unknown>, time: Date, color: boolean): string {
  /* eslint-disable @typescript-eslint/no-base-to-string -- the logging context holds numbers and strings (LogContext) */
  const ctx = [
    info.planId !== undefined ? `plan ${String(info.planId)}` : '',
    info.taskId !== undefined ? `task ${String(info.taskId)}` : '',
    info.host !== undefined ? String(info.host) : '',
  ].filter(Boolean);
  /* eslint-enable @typescript-eslint/no-base-to-string */
  const level = color && COLORS[info.level as string] ? `\u001b[${COLORS[info.level as string]}m${info.level as string}\u001b[39m` : String(info.level);
  const parts = [isoSeconds(time), level];
  if (ctx.length) parts.push(`[${ctx.join(' ')}]`);
  // One entry, one line: a newline in a message (a hostile file name) cannot forge another line,
  // and no control or bidi character reaches the terminal raw.
  parts.push(escapeControls(String(info.message)));
  for (const [k, v] of fields(info)) parts.push(escapeControls(`${k}=${textValue(v)}`));
  return parts.join(' ');
}

/** `{"time","level","msg","plan_id","task_id","host",...fields}` */
function jsonLine(info: Record<string, unknown>, time: Date): string {
  const out: Record<string, unknown> = { time: time.toISOString(), level: info.level, msg: String(info.message) };
  if (info.planId !== undefined) out.plan_id = info.planId;
  if (info.taskId !== undefined) out.task_id = info.taskId;
  if (info.host !== undefined) out.host = info.host;
  for (const [k, v] of fields(info)) if (!(k in out)) out[k] = v;
  // JSON.stringify escapes C0 controls but not C1 or bidi controls (U+202E): escape those too.
  return escapeControls(JSON.stringify(out));
}

/** A winston logger writing one redacted line per entry to stderr (or `stream`). */
export function createLogger(params: CreateLoggerParams = {}): Logger {
  const format = params.format ?? 'text';
  if (format !== 'text' && format !== 'json') {
    throw new UsageError(`invalid log format ${JSON.stringify(format)}`, { hint: 'use text or json' });
  }
  const level = params.quiet ? 'error' : assertLogLevel(params.level ?? 'info');
  const stream = params.stream ?? process.stderr;
  const now = params.now ?? (() => new Date());
  const color = params.color ?? (Boolean((stream as { isTTY?: boolean }).isTTY) && !process.env.NO_COLOR);
  const winston = loadWinston();
  const render = winston.format((info) => {
    const rec = info as unknown as Record<string, unknown>;
    const line = format === 'json' ? jsonLine(rec, now()) : textLine(rec, now(), color);
    (info as unknown as Record<symbol, unknown>)[MESSAGE] = redact(line);
    return info;
  });
  const context = Object.fromEntries(Object.entries(params.context ?? {}).filter(([, v]) => v !== undefined));
  return winston.createLogger({
    level,
    levels: winston.config.npm.levels,
    defaultMeta: context,
    format: winston.format.combine(winston.format.errors({ stack: true }), render()),
    transports: [new winston.transports.Stream({ stream, eol: '\n' })],
  });
}

/** The host name to put in the logging context: the short name, as Slurm shows it. */
export function shortHostname(hostname: string = os.hostname()): string {
  return hostname.split('.')[0] || hostname;
}

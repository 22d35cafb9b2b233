// The values a batch script is made of, checked before they are written: the renderer is the
// last gate for settings that came from the command line rather than a validated manifest.
import { isAbsolute } from 'node:path';
import { UsageError, parseSlurmTime, slurmTimeProblem } from '@hfhpc/core';

const MEM_RE = /^\d+[KMGT]?$/i;
const NAME_LIST_RE = /^[A-Za-z0-9_.-]+(?:,[A-Za-z0-9_.-]+)*$/;
const MAIL_TYPES = new Set([
  'NONE', 'BEGIN', 'END', 'FAIL', 'REQUEUE', 'ALL', 'INVALID_DEPEND', 'STAGE_OUT',
  'TIME_LIMIT', 'TIME_LIMIT_90', 'TIME_LIMIT_80', 'TIME_LIMIT_50', 'ARRAY_TASKS',
]);

function bad(what: string, value: unknown, expected: string): never {
  throw new UsageError(`${what}: expected ${expected}, got ${JSON.stringify(value)}`);
}

/** A Slurm time limit: minutes, MM:SS, HH:MM:SS, D-HH[:MM[:SS]], UNLIMITED; at most a year. */
export function checkTime(value: string): string {
  const problem = slurmTimeProblem(value);
  if (problem) throw new UsageError(`time: ${problem}`, { hint: 'e.g. --time 12:00:00 or --time 2-00:00:00' });
  return value;
}

/** A Slurm memory size: megabytes, or a number with K/M/G/T. */
export function checkMem(value: string): string {
  return MEM_RE.test(value) ? value : bad('mem', value, 'a Slurm memory size (e.g. 4000, 16G, 1T)');
}

/** A partition, account or QOS name (partitions may be a comma list). */
export function checkName(what: string, value: string): string {
  return NAME_LIST_RE.test(value) ? value : bad(what, value, 'letters, digits, "_", "." or "-" (comma-separated)');
}

/** Comma-separated Slurm mail types, e.g. `END,FAIL`. */
export function checkMailType(value: string): string {
  for (const t of value.split(',')) {
    if (!MAIL_TYPES.has(t)) bad('mailType', value, `a comma list of Slurm mail types (${[...MAIL_TYPES].join(', ')})`);
  }
  return value;
}

/** A mail address or user name without whitespace or quotes. */
export function checkMailUser(value: string): string {
  return /^[^\s'"]+$/.test(value) ? value : bad('mailUser', value, 'an address without spaces or quotes');
}

/** A whole number in [min, max]. */
export function checkInt(what: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  return Number.isInteger(value) && value >= min && value <= max
    ? value
    : bad(what, value, `a whole number from ${min}${max === Number.MAX_SAFE_INTEGER ? '' : ` to ${max}`}`);
}

/** An absolute path (job scripts run in another directory, maybe on another node). */
export function checkAbsolute(what: string, value: string): string {
  return isAbsolute(value) ? value : bad(what, value, 'an absolute path');
}

/**
 * A warning when the time limit leaves no room before the USR1 lead (`--signal-seconds`,
 * default 300): Slurm would signal the task as it starts, and every task would stop and
 * requeue without fetching anything.
 */
export function timeLeadWarning(slurm: { time?: string; signalSeconds?: number }): string | undefined {
  if (slurm.time === undefined) return undefined;
  const parsed = parseSlurmTime(slurm.time);
  const lead = slurm.signalSeconds ?? 300;
  if (!('seconds' in parsed) || lead === 0 || parsed.seconds > lead) return undefined;
  return `time limit ${slurm.time} (${parsed.seconds} s) is not longer than the USR1 lead of ${lead} s: each task would be told to stop as it starts; give a longer --time or a smaller --signal-seconds`;
}

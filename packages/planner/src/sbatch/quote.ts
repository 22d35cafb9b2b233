// Quoting for the two readers of a batch script: bash (the command lines) and sbatch's own
// parser of `#SBATCH` lines, which strips one level of '…' or "…" quotes but knows no escapes.
import { UsageError } from '@hfhpc/core';

// Characters that need no quoting in either reader.
const SAFE_RE = /^[A-Za-z0-9_@%+=:,./-]+$/;
/** Whether `value` holds a newline or another control character (which would end a script line). */
export function hasControlChars(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

function refuseControls(what: string, value: string): void {
  if (hasControlChars(value)) {
    throw new UsageError(`${what} ${JSON.stringify(value)} contains a newline or control character`);
  }
}

/** One argument for bash: bare when safe, else single-quoted (`'` written as `'\''`). */
export function shellQuote(arg: string): string {
  refuseControls('command argument', arg);
  if (SAFE_RE.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/**
 * One `#SBATCH` option value: bare when safe, else in single quotes, or double quotes when it
 * holds a single quote. A value holding both kinds cannot be written for sbatch and is refused.
 */
export function sbatchQuote(what: string, value: string): string {
  refuseControls(what, value);
  if (value === '') throw new UsageError(`${what} is empty`);
  if (SAFE_RE.test(value)) return value;
  if (!value.includes("'")) return `'${value}'`;
  if (!value.includes('"')) return `"${value}"`;
  throw new UsageError(`${what} ${JSON.stringify(value)} holds both ' and ", which sbatch cannot parse`, {
    hint: 'drop one kind of quote from the value',
  });
}

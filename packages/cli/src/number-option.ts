// Number options with bounds. yargs' `type: 'number'` turns `--task-id ""` into 0 and
// `--plan-id NaN` into NaN, and accepts 1e20 seconds (a timer that long fires at once in
// Node); so every number option is parsed here from what was typed, and refused (exit 2,
// naming the option and the range) unless it is a finite number inside its range.
import type { Options } from 'yargs';
import { UsageError } from '@hfhpc/core';

export interface NumberBounds {
  min: number;
  max: number;
  /** Whole numbers only. */
  integer?: boolean;
  /** Unit named in the message, e.g. `seconds`. */
  unit?: string;
}

/** Longest interval or lease hfhpc accepts, in seconds: a day. */
export const MAX_SECONDS = 86_400;

/** Parse one option value against its bounds; `UsageError` otherwise. */
export function parseBoundedNumber(flag: string, value: unknown, b: NumberBounds): number {
  const range = `${b.integer ? 'a whole number' : 'a number'}${b.unit ? ` of ${b.unit}` : ''} from ${b.min} to ${b.max}`;
  if (Array.isArray(value)) throw new UsageError(`${flag} was given ${value.length} times; give it once (${range})`);
  const text = typeof value === 'string' ? value.trim() : value;
  const n = typeof text === 'number' ? text : typeof text === 'string' && text !== '' && /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text) ? Number(text) : NaN;
  if (!Number.isFinite(n) || n < b.min || n > b.max || (b.integer && !Number.isInteger(n))) {
    throw new UsageError(`Expected ${flag} to be ${range}, got \`${value === '' ? '' : String(value)}\`${value === '' ? ' (empty)' : ''}`);
  }
  return n;
}

/**
 * A yargs option (no `type`: the raw text reaches the check) for a bounded number. Its parsed
 * type is `number` (`number | undefined` without a default), from the `coerce` yargs infers.
 */
export function numberOption<O extends Omit<Options, 'type' | 'coerce'>>(flag: string, bounds: NumberBounds, options: O): O & { coerce: (v: unknown) => number } {
  return { ...options, coerce: (v: unknown) => parseBoundedNumber(flag, v, bounds) };
}

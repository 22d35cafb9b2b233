// Byte sizes as people write them in manifests and on the command line: `200GB` (SI, powers
// of 1000), `1.5TiB` (IEC, powers of 1024), `512MiB`, `1e9`, or a plain number of bytes.
import { UsageError } from './errors.js';

const POWERS: Record<string, number> = { '': 0, k: 1, m: 2, g: 3, t: 4, p: 5, e: 6 };
// number, optional exponent, optional unit prefix, optional `i` (IEC), optional `B`.
const SIZE_RE = /^([0-9]+(?:\.[0-9]+)?|\.[0-9]+)(e[+-]?[0-9]+)?\s*([kmgtpe]?)(i?)(b?)$/i;

export interface ParseSizeOptions {
  /** Names the value in the error message, e.g. `--shard-size`. Default: `size`. */
  what?: string;
}

/**
 * Parse a size into a whole number of bytes. Units are case-insensitive, `B` is optional,
 * `k/M/G/T/P/E` are powers of 1000 and `Ki/Mi/Gi/…` powers of 1024.
 * Throws `UsageError` on anything else (negative, fractional bytes, junk, beyond 2^53).
 */
export function parseSize(input: string | number, options: ParseSizeOptions = {}): number {
  const what = options.what ?? 'size';
  const fail = (why: string): never => {
    throw new UsageError(`invalid ${what} ${JSON.stringify(input)}: ${why}`, {
      hint: 'write a number of bytes with an optional unit, e.g. 200GB, 1.5TiB, 512MiB or 1e9',
    });
  };
  let bytes: number;
  if (typeof input === 'number') {
    bytes = input;
  } else if (typeof input === 'string') {
    const m = SIZE_RE.exec(input.trim());
    if (!m) return fail('expected a number with an optional unit');
    const [, num, exp = '', prefix, iec, b] = m;
    // `1i` or `5iB` without a prefix is not a unit.
    if (iec && !prefix) return fail(`unknown unit "${iec}${b}"`);
    const base = iec ? 1024 : 1000;
    bytes = Number(num + exp) * base ** POWERS[prefix.toLowerCase()];
  } else {
    return fail(`expected a string or a number, got ${typeof input}`);
  }
  if (!Number.isFinite(bytes) || bytes < 0) return fail('expected a non-negative size');
  const whole = Math.round(bytes);
  // Tolerate floating-point dust (1.1 * 1000), not real fractions of a byte.
  if (Math.abs(bytes - whole) > 1e-6 * Math.max(1, bytes)) return fail('not a whole number of bytes');
  if (!Number.isSafeInteger(whole)) return fail('too large');
  return whole;
}

const IEC_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
const SI_UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];

export interface FormatBytesOptions {
  /** Powers of 1000 (`GB`) instead of 1024 (`GiB`). Default: false. */
  si?: boolean;
}

/** A short human form: `0 B`, `999 B`, `1.5 KiB`, `12.3 GiB`, `200 GB` (3 significant digits). */
export function formatBytes(n: number, options: FormatBytesOptions = {}): string {
  if (!Number.isFinite(n)) return String(n);
  const base = options.si ? 1000 : 1024;
  const units = options.si ? SI_UNITS : IEC_UNITS;
  const sign = n < 0 ? '-' : '';
  let v = Math.abs(n);
  let i = 0;
  while (v >= base && i < units.length - 1) {
    v /= base;
    i++;
  }
  if (i === 0) return `${sign}${Math.round(v)} B`;
  // Rounding may carry into the next unit (1023.99 KiB → 1.00 MiB).
  let text = v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0);
  if (Number(text) >= base && i < units.length - 1) {
    i++;
    text = (v / base).toFixed(2);
  }
  return `${sign}${text.includes('.') ? text.replace(/\.?0+$/, '') : text} ${units[i]}`;
}

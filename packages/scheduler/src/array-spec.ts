// Slurm `--array` specifications: `0-99%8`, `3,17,42`, `1-7:3`, `0-9,20-29%4`.
import { UsageError } from '@hfhpc/core';

export interface ArraySpec {
  /** Task indices in ascending order, without duplicates. */
  indices: number[];
  /** The `%K` throttle, when present. */
  maxParallel?: number;
}

const PART_RE = /^(\d+)(?:-(\d+)(?::(\d+))?)?$/;
// A spec can name millions of indices; refuse to expand beyond Slurm's own ceiling.
const MAX_INDEX = 4_000_000;

/**
 * Parse an array spec into its indices. Throws `UsageError` naming the spec when it is not
 * one Slurm accepts (ranges, steps, lists, one optional `%K` with K ≥ 1).
 */
export function parseArraySpec(spec: string): ArraySpec {
  const fail = (why: string): never => {
    throw new UsageError(`invalid array spec ${JSON.stringify(spec)}: ${why}`, {
      hint: 'use a range like 0-99%8 or a list like 3,17,42',
    });
  };
  const [list, throttle, ...rest] = spec.split('%');
  if (rest.length > 0) fail('more than one %');
  let maxParallel: number | undefined;
  if (throttle !== undefined) {
    if (!/^\d+$/.test(throttle) || Number(throttle) < 1) fail('the %K throttle must be a whole number ≥ 1');
    maxParallel = Number(throttle);
  }
  const seen = new Set<number>();
  for (const part of list.split(',')) {
    const m = PART_RE.exec(part);
    if (!m) return fail(`"${part}" is not an index, a range a-b or a stepped range a-b:s`);
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    const step = m[3] === undefined ? 1 : Number(m[3]);
    if (to < from) fail(`range ${part} runs backwards`);
    if (step < 1) fail(`step in ${part} must be ≥ 1`);
    if (to > MAX_INDEX) fail(`index ${to} is above Slurm's limit`);
    for (let i = from; i <= to; i += step) seen.add(i);
  }
  const indices = [...seen].sort((a, b) => a - b);
  return maxParallel === undefined ? { indices } : { indices, maxParallel };
}

/**
 * Format indices as a compact spec: consecutive runs become ranges (`3-5,17,42`), with `%K`
 * appended when `maxParallel` is given. Indices must be non-negative integers.
 */
export function formatArraySpec(params: { indices: readonly number[]; maxParallel?: number }): string {
  const sorted = [...new Set(params.indices)].sort((a, b) => a - b);
  if (sorted.length === 0) throw new UsageError('an array needs at least one task index');
  for (const i of sorted) {
    if (!Number.isInteger(i) || i < 0) throw new UsageError(`array task index ${i} is not a non-negative integer`);
  }
  const parts: string[] = [];
  let start = sorted[0];
  let prev = start;
  for (const i of [...sorted.slice(1), Number.NaN]) {
    if (i === prev + 1) {
      prev = i;
      continue;
    }
    parts.push(start === prev ? `${start}` : `${start}-${prev}`);
    start = prev = i;
  }
  const { maxParallel } = params;
  if (maxParallel !== undefined && (!Number.isInteger(maxParallel) || maxParallel < 1)) {
    throw new UsageError(`max parallel tasks must be a whole number ≥ 1, got ${maxParallel}`);
  }
  return maxParallel === undefined ? parts.join(',') : `${parts.join(',')}%${maxParallel}`;
}

// The cluster's MaxArraySize: the highest array index it accepts is this value minus one.
import { execaExec, type Exec } from './exec.js';

export interface DetectMaxArraySizeParams {
  /** Runs `scontrol show config`. Default: execa. */
  exec?: Exec;
  /** Used when scontrol is missing or says nothing (`--max-array-size`). Default 1001, Slurm's default. */
  fallback?: number;
  env?: NodeJS.ProcessEnv;
}

export const DEFAULT_MAX_ARRAY_SIZE = 1001;

/** MaxArraySize from `scontrol show config`, else `fallback`. */
export async function detectMaxArraySize(params: DetectMaxArraySizeParams = {}): Promise<number> {
  const fallback = params.fallback ?? DEFAULT_MAX_ARRAY_SIZE;
  const r = await (params.exec ?? execaExec)('scontrol', ['show', 'config'], { env: params.env });
  if (r.exitCode !== 0) return fallback;
  const m = /^MaxArraySize\s*=\s*(\d+)\s*$/m.exec(r.stdout);
  const value = m ? Number(m[1]) : Number.NaN;
  return Number.isInteger(value) && value >= 1 ? value : fallback;
}

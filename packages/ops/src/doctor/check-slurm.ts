import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import path from 'node:path';
import type { CheckResult, DoctorContext } from './doctor-types.js';

/** The first executable called `name` on `PATH`, or undefined. */
export async function findOnPath(name: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; next PATH entry
    }
  }
  return undefined;
}

/**
 * Slurm commands on PATH. Missing Slurm is a warning, not a failure: `hfhpc run --local`
 * needs none of it.
 */
export async function checkSlurm(ctx: DoctorContext): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const [name, use] of [
    ['sbatch', 'plan --submit'],
    ['squeue', 'status'],
  ] as const) {
    const found = await findOnPath(name, ctx.env);
    results.push(
      found
        ? { id: name, status: 'ok', detail: `${name} is ${found}` }
        : {
            id: name,
            status: 'warn',
            detail: `${name} is not on PATH (needed by \`hfhpc ${use}\`)`,
            fix: 'on a cluster: `module load slurm` or add Slurm\'s bin folder to PATH; without Slurm use `hfhpc run --local`',
          },
    );
  }
  return results;
}

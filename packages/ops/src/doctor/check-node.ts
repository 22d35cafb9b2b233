import type { CheckResult, DoctorContext } from './doctor-types.js';

/** The oldest Node hfhpc supports (root package.json `engines`). */
export const MIN_NODE_VERSION = '20.19.0';

function atLeast(version: string, min: string): boolean {
  const a = version.split('.').map(Number);
  const b = min.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  }
  return true;
}

export async function checkNode(ctx: DoctorContext): Promise<CheckResult> {
  const ok = atLeast(ctx.nodeVersion, MIN_NODE_VERSION);
  return ok
    ? { id: 'node', status: 'ok', detail: `Node ${ctx.nodeVersion}` }
    : {
        id: 'node',
        status: 'fail',
        detail: `Node ${ctx.nodeVersion} is older than ${MIN_NODE_VERSION}`,
        fix: `load a newer Node (e.g. \`module load nodejs/20\`) or install Node ≥ ${MIN_NODE_VERSION}`,
      };
}

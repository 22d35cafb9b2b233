// Checks on ids and dependency strings before they reach a command line.
import { UsageError } from '@hfhpc/core';

const SLURM_ID_RE = /^\d+(?:_\d+)?$/;
const DEPENDENCY_RE = /^(?:after|afterany|afterok|afternotok|aftercorr|afterburstbuffer)(?::\d+(?:_\d+)?(?:\+\d+)?)+$|^singleton$/;

/** A Slurm job id: `123` or `123_4`. */
export function checkSlurmJobId(id: string): string {
  if (!SLURM_ID_RE.test(id)) throw new UsageError(`not a Slurm job id: ${JSON.stringify(id)}`, { hint: 'expected 123 or 123_4' });
  return id;
}

/** A `--dependency` value: `afterok:1:2`, `afterany:3_1`, `singleton`, joined by `,` (all) or `?` (any). */
export function checkDependency(dependency: string): string {
  const parts = dependency.split(/[,?]/);
  if (!parts.every((p) => DEPENDENCY_RE.test(p))) {
    throw new UsageError(`not a Slurm dependency: ${JSON.stringify(dependency)}`, { hint: 'expected e.g. afterok:123' });
  }
  return dependency;
}

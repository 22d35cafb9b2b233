// One refusal for every hostile path of a repo listing, so all of them can be reported or
// excluded at once instead of one per run.
import { UnsafePathError } from './errors.js';

export interface UnsafePath {
  path: string;
  /** Why the path is unsafe (`repoPathProblem`). */
  problem: string;
}

/** How many paths a refusal names; the rest are counted. */
export const MAX_NAMED_UNSAFE_PATHS = 20;

/**
 * The `UnsafePathError` (exit 2) naming the repo and the first `limit` unsafe paths with their
 * problem, and the exclude entries that would leave them out. Paths are JSON-quoted (valid in a
 * YAML or JSON manifest); control characters in them are escaped by the error itself.
 */
export function unsafePathsError(repo: string, found: readonly UnsafePath[], limit: number = MAX_NAMED_UNSAFE_PATHS): UnsafePathError {
  const shown = found.slice(0, limit);
  const more = found.length > shown.length ? `; and ${found.length - shown.length} more` : '';
  const message =
    found.length === 1
      ? `unsafe path ${JSON.stringify(found[0].path)} in ${repo}: ${found[0].problem}`
      : `${found.length} unsafe paths in ${repo}: ${shown.map((f) => `${JSON.stringify(f.path)} (${f.problem})`).join('; ')}${more}`;
  const entries = shown.map((f) => JSON.stringify(f.path)).join(', ');
  return new UnsafePathError(message, {
    hint:
      `hfhpc never writes outside its root; report ${found.length === 1 ? 'it' : 'them'} to the repo owners, or plan the rest ` +
      `by adding to this dataset's exclude: [${entries}]${more ? ' (and the others, or a glob matching them)' : ''}`,
    context: { repo, paths: shown.map((f) => f.path), count: found.length },
  });
}

import type { FailureGroup, FailureStatus } from './status-types.js';

/**
 * The cause of a failure without what differs between files: paths, URLs, hashes and numbers
 * blanked out, so that 3,000 "403 gated" failures make one line, not 3,000.
 */
export function failureCause(error: string): string {
  const firstLine = error.split('\n', 1)[0] ?? '';
  return firstLine
    .replace(/https?:\/\/[^\s)'"<>]+/g, '<url>')
    .replace(/\b[0-9a-f]{40,64}\b/gi, '<sha>')
    .replace(/(['"`])[^'"`]*\1/g, '<name>')
    .replace(/(?:[\w.-]+\/)+[\w.-]+/g, '<path>')
    .replace(/(?<![\w])\d+(?:\.\d+)?(?![\w])/g, 'N')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 160);
}

/** Group failures by cause, most frequent first, with up to `examples` file names each. */
export function groupFailures(params: { failures: readonly FailureStatus[]; examples?: number }): FailureGroup[] {
  const { failures, examples = 3 } = params;
  const groups = new Map<string, FailureGroup>();
  for (const f of failures) {
    const cause = failureCause(f.error);
    let g = groups.get(cause);
    if (!g) {
      g = { cause, count: 0, examples: [] };
      groups.set(cause, g);
    }
    g.count += 1;
    if (g.examples.length < examples) g.examples.push(`${f.repo}: ${f.path}`);
  }
  return [...groups.values()].sort((a, b) => b.count - a.count || a.cause.localeCompare(b.cause));
}

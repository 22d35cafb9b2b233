// Manifest problems are collected, not thrown one at a time, so the user fixes everything in
// one pass. Each names the field by its path in the file (`datasets[2] (bigcode/x).include[0]`).

/** A field's place in the manifest: keys and list indexes. */
export type FieldPath = readonly (string | number)[];

export interface ManifestProblem {
  at: FieldPath;
  message: string;
}

export class ProblemList {
  readonly items: ManifestProblem[] = [];

  add(at: FieldPath, message: string): void {
    this.items.push({ at, message });
  }

  get size(): number {
    return this.items.length;
  }
}

/** How a value looks in a message: `a list`, `a mapping`, `number 5`, `string "x"`, `null`. */
export function describeValue(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- objects returned above: a number, boolean or the like is left
  return `${typeof v} ${String(v)}`;
}

/**
 * `['datasets', 2, 'include', 0]` → `datasets[2] (bigcode/x).include[0]`; the dataset entry is
 * named by its repo when it has one.
 */
export function fieldLabel(at: FieldPath, repoOf: (index: number) => string | undefined): string {
  let out = '';
  at.forEach((part, i) => {
    if (typeof part === 'number') {
      out += `[${part}]`;
      const repo = at[i - 1] === 'datasets' && i === 1 ? repoOf(part) : undefined;
      if (repo) out += ` (${repo})`;
    } else {
      out += out ? `.${part}` : part;
    }
  });
  return out || '(top level)';
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}

/** The known key a typo most likely meant, if one is close enough. */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(key.length / 3)) + 1;
  for (const k of known) {
    const d = editDistance(key.toLowerCase().replace(/-/g, '_'), k);
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best;
}

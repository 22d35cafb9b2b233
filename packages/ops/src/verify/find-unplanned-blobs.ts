import { cacheLayout } from '@hfhpc/core';
import path from 'node:path';

export interface UnplannedBlob {
  repo: string;
  /** Path relative to the root. */
  path: string;
  size: number;
}

/**
 * Blob files in the plan's repo folders that no planned file names: left by an older plan
 * (another commit), or by something else writing into the cache. Reported, never removed.
 */
export async function findUnplannedBlobs(params: { root: string; rows: readonly { repo: string; blob: string }[] }): Promise<UnplannedBlob[]> {
  const { root, rows } = params;
  const planned = new Map<string, Set<string>>();
  for (const r of rows) {
    let s = planned.get(r.repo);
    if (!s) planned.set(r.repo, (s = new Set()));
    s.add(r.blob);
  }
  const out: UnplannedBlob[] = [];
  // fast-glob is loaded when this runs, not when @hfhpc/ops is imported (status never needs it).
  const { default: fg } = await import('fast-glob');
  for (const [repo, blobs] of planned) {
    const dir = cacheLayout(root, repo).blobsDir;
    const entries = await fg('*', { cwd: dir, onlyFiles: true, stats: true, suppressErrors: true, ignore: ['*.incomplete'] });
    for (const e of entries) {
      if (!blobs.has(e.name)) out.push({ repo, path: path.relative(root, path.join(dir, e.name)), size: e.stats?.size ?? 0 });
    }
  }
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

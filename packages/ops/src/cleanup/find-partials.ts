import path from 'node:path';
import { parsePartialName } from '@hfhpc/core';

/** A partial download in the cache layout: `<root>/datasets--org--name/blobs/<etag>[.<tag>].incomplete`. */
export interface PartialFile {
  path: string;
  /** `datasets--org--name` */
  repoFolder: string;
  /** The etag the partial will become (40-hex git sha1 or 64-hex sha256). */
  blob: string;
  /**
   * The claim that wrote it (plan, shard index, fence; from its name). Absent for the legacy
   * shared name and for a partial a takeover moved aside (its bytes are in the new holder's).
   */
  claim?: { planId: number; index: number; fence: number };
  /** A partial a takeover moved aside: never resumed from again. */
  superseded: boolean;
  size: number;
  mtimeMs: number;
}

// hfhpc names a claim's partial `<etag>.p<plan>s<shard>f<fence>-<random>.incomplete` (older
// versions: `<etag>.incomplete`); a takeover moves an existing one aside with one more
// `.aside-<random>`. Other tools' names (huggingface_hub 1.x: `<etag>.<random>.incomplete` with
// other characters) that do not parse are theirs to clean and are left alone.

/** Every hfhpc partial file under `root`, found with one fast-glob walk of the blobs folders. */
export async function findPartials(params: { root: string }): Promise<PartialFile[]> {
  // fast-glob is loaded when this runs, not when @hfhpc/ops is imported (status never needs it).
  const { default: fg } = await import('fast-glob');
  const entries = await fg('datasets--*/blobs/*.incomplete', {
    cwd: params.root,
    absolute: true,
    onlyFiles: true,
    followSymbolicLinks: false,
    stats: true,
    suppressErrors: true,
  });
  const partials: PartialFile[] = [];
  for (const e of entries) {
    const name = parsePartialName(path.basename(e.path));
    if (!name || !e.stats) continue;
    partials.push({
      path: e.path,
      repoFolder: path.basename(path.dirname(path.dirname(e.path))),
      blob: name.blob,
      ...(name.claim && !name.aside ? { claim: name.claim } : {}),
      superseded: name.aside,
      size: e.stats.size,
      mtimeMs: e.stats.mtimeMs,
    });
  }
  return partials.sort((a, b) => a.path.localeCompare(b.path));
}

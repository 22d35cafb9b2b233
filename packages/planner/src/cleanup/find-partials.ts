import path from 'node:path';
import fg from 'fast-glob';

/** A partial download in the cache layout: `<root>/datasets--org--name/blobs/<etag>.incomplete`. */
export interface PartialFile {
  path: string;
  /** `datasets--org--name` */
  repoFolder: string;
  /** The etag the partial will become (40-hex git sha1 or 64-hex sha256). */
  blob: string;
  size: number;
  mtimeMs: number;
}

// hfhpc names partials `<etag>.incomplete`; other tools' names (huggingface_hub 1.x adds a
// random suffix) are theirs to clean and are left alone.
const OURS = /^([0-9a-f]{40}|[0-9a-f]{64})\.incomplete$/;

/** Every hfhpc partial file under `root`, found with one fast-glob walk of the blobs folders. */
export async function findPartials(params: { root: string }): Promise<PartialFile[]> {
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
    const m = OURS.exec(path.basename(e.path));
    if (!m || !e.stats) continue;
    partials.push({
      path: e.path,
      repoFolder: path.basename(path.dirname(path.dirname(e.path))),
      blob: m[1] as string,
      size: e.stats.size,
      mtimeMs: e.stats.mtimeMs,
    });
  }
  return partials.sort((a, b) => a.path.localeCompare(b.path));
}

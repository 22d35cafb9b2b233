import type { CacheLayout, ShardFile } from '@hfhpc/core';
import { existingBlobProblem } from '../existing-blob.js';
import { resolveUrl } from '../resolve-url.js';
import { findBlobElsewhere, reuseBlob } from '../reuse-blob.js';
import type { BlobGroup } from './blob-group.js';
import { sizeOf } from './own-files.js';
import type { ShardRun } from './shard-run.js';

export interface FetchedBlob {
  path: string;
  /** This run downloaded (so hashed) its bytes. */
  downloaded: boolean;
}

/** The blob at the primary file's repo folder: in place already, reused from another repo, or downloaded. */
export async function fetchBlob(run: ShardRun, g: BlobGroup, layout: CacheLayout, primary: ShardFile): Promise<FetchedBlob> {
  const finalPath = layout.blobPath(g.blob);
  if (await run.usableAt(finalPath, g)) {
    // In place already (a re-plan after the commit moved): done bytes, though not fetched.
    run.params.meter.addBytes(g.size, 0);
    return { path: finalPath, downloaded: false };
  }
  await run.ensureDir(layout.blobsDir);
  if (await reuseFromElsewhere(run, g, layout)) {
    run.params.meter.addBytes(g.size, 0);
    return { path: finalPath, downloaded: false };
  }
  await download(run, g, layout, primary);
  return { path: finalPath, downloaded: true };
}

/** Link or copy a verified copy of the blob from another repo folder; false when there is none. */
async function reuseFromElsewhere(run: ShardRun, g: BlobGroup, layout: CacheLayout): Promise<boolean> {
  const { root, log } = run.params;
  const { signal, repoDirs, dirs } = run;
  const finalPath = layout.blobPath(g.blob);
  const elsewhere = await findBlobElsewhere({ root, blob: g.blob, size: g.size, exceptRepoDir: layout.repoDir, repoDirs, dirs });
  const elsewhereProblem = elsewhere && (await existingBlobProblem({ path: elsewhere, expected: g.expected, trusted: await run.trustedOnDisk(g), signal }));
  if (elsewhereProblem) log.warn(`not reusing ${elsewhere}: ${elsewhereProblem} (hfhpc verify on its dataset puts it right)`);
  if (!elsewhere || elsewhereProblem) return false;
  const how = await reuseBlob({ source: elsewhere, target: finalPath, expected: g.expected, signal });
  log.debug(`${how} ${finalPath} from ${elsewhere}`);
  return true;
}

/**
 * The longest earlier partial's size (at most the blob's): bytes already there are not network
 * bytes, so the first report starts there. sizeOf lstats each name (lstatOwnFile): a symlink
 * planted at a partial's name stops the shard here (UnsafeCacheError) instead of being read through.
 */
async function resumableBytes(resumeFrom: string[], size: number): Promise<number> {
  let last = 0;
  for (const p of resumeFrom) {
    const n = (await sizeOf(p)) ?? 0;
    if (n <= size) last = Math.max(last, n);
  }
  return last;
}

/** Download the blob into this claim's partial file and publish it (the download engine checks the lease). */
async function download(run: ShardRun, g: BlobGroup, layout: CacheLayout, primary: ShardFile): Promise<void> {
  const { params, signal } = run;
  const { meter, hubUrl } = params;
  const resumeFrom = await run.partialsOf(layout, g.blob);
  let last = await resumableBytes(resumeFrom, g.size);
  meter.addBytes(last, 0);
  run.stopIfAborted();
  await params.download({
    url: resolveUrl({ hubUrl, repo: primary.repo, commit: primary.commitSha, path: primary.path }),
    hubOrigin: new URL(hubUrl).origin,
    hubUrl,
    token: params.token,
    partialPath: layout.incompletePath(g.blob, run.tag),
    resumeFrom,
    lease: params.lease,
    finalPath: layout.blobPath(g.blob),
    expected: g.expected,
    signal,
    gate: params.gate,
    repo: primary.repo,
    path: primary.path,
    revision: primary.revision,
    log: params.log,
    onProgress: (bytes) => {
      // A restart from zero (hash mismatch) moves backwards; count only forward motion.
      if (bytes > last) meter.addBytes(bytes - last, bytes - last);
      last = Math.max(last, bytes);
      params.progress.update(primary.id, bytes);
    },
  });
  if (last < g.size) meter.addBytes(g.size - last, 0);
}

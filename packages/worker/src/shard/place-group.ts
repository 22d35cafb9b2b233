import { lstat } from 'node:fs/promises';
import { LeaseLostError, StaleFenceError, UnsafeCacheError, UnsafePathError, repoPathProblem, type ShardFile } from '@hfhpc/core';
import { toDiskError } from '../disk-error.js';
import { placeSnapshotLink } from '../place-snapshot-link.js';
import { reuseBlob } from '../reuse-blob.js';
import type { BlobGroup } from './blob-group.js';
import { isRepoWide, reason } from './failure.js';
import { fetchBlob, type FetchedBlob } from './fetch-blob.js';
import type { ShardRun } from './shard-run.js';

/**
 * One blob group: fetch the blob once, place every file's snapshot link, record each file done
 * or failed. Throws (stopping the shard) on a stop signal, a lost lease, a planted link, or a
 * DiskError; any other failure is recorded on the files it concerns.
 */
export async function placeGroup(run: ShardRun, g: BlobGroup): Promise<void> {
  run.stopIfAborted();
  const live = liveFiles(run, g);
  if (live.length === 0) return;
  const fetched = await fetchOrFail(run, g, live);
  if (!fetched) return;
  await placeFiles(run, g, live, fetched.path);
  if (fetched.downloaded) await recordVerified(run, g, live);
}

/** The group's files still to do, less those refused up front (recorded failed here). */
function liveFiles(run: ShardRun, g: BlobGroup): ShardFile[] {
  const live: ShardFile[] = [];
  for (const f of g.files) {
    if (!run.todo.has(f)) continue;
    // A path that would leave its snapshot folder is refused before any request is made.
    const unsafe = repoPathProblem(f.path);
    if (unsafe) run.fail(f, new UnsafePathError(`unsafe path ${JSON.stringify(f.path)} in ${f.repo}: ${unsafe}`, { hint: 'exclude it in the manifest; hfhpc never writes outside its root' }));
    else if (run.repoFailure.has(f.repo)) run.fail(f, new Error(run.repoFailure.get(f.repo)));
    else live.push(f);
  }
  return live;
}

/** The blob, fetched for the first live file; undefined when that failed (every live file recorded failed). */
async function fetchOrFail(run: ShardRun, g: BlobGroup, live: ShardFile[]): Promise<FetchedBlob | undefined> {
  const primary = live[0];
  const layout = run.layoutFor(primary.repo);
  try {
    return await fetchBlob(run, g, layout, primary);
  } catch (err) {
    if (run.signal.aborted) throw run.signal.reason;
    if (err instanceof UnsafeCacheError) throw err; // a planted link: the task stops, nothing written through it
    const disk = toDiskError(err, { path: layout.incompletePath(g.blob, run.tag), bytesNeeded: g.size });
    if (disk) throw disk;
    if (err instanceof LeaseLostError || err instanceof StaleFenceError) throw err;
    if (isRepoWide(err)) run.repoFailure.set(primary.repo, reason(err));
    for (const f of live) run.fail(f, err);
    return undefined;
  }
}

/** Each live file's blob (linked or copied from `source` into its repo folder) and snapshot link. */
async function placeFiles(run: ShardRun, g: BlobGroup, live: ShardFile[], source: string): Promise<void> {
  for (const f of live) {
    run.stopIfAborted();
    const layout = run.layoutFor(f.repo);
    try {
      const blobPath = layout.blobPath(g.blob);
      if (blobPath !== source && !(await run.usableAt(blobPath, g))) {
        await run.ensureDir(layout.blobsDir);
        await reuseBlob({ source, target: blobPath, expected: g.expected, signal: run.signal });
      }
      await placeSnapshotLink({ layout, repo: f.repo, commit: f.commitSha, path: f.path, blob: g.blob, dirs: run.dirs });
    } catch (err) {
      if (run.signal.aborted) throw run.signal.reason;
      if (err instanceof UnsafeCacheError) throw err;
      const disk = toDiskError(err, { path: layout.snapshotPath(f.commitSha, f.path), bytesNeeded: g.size });
      if (disk) throw disk;
      if (err instanceof UnsafePathError) {
        run.fail(f, err);
        continue;
      }
      throw err;
    }
    run.placed(f, f !== live[0]);
  }
}

/**
 * Bytes this run hashed on the way in: their stat (taken after every link to them was made,
 * which changes ctime) lets `hfhpc verify` skip them until they change.
 */
async function recordVerified(run: ShardRun, g: BlobGroup, live: ShardFile[]): Promise<void> {
  const { done } = run.params;
  if (!done.blobVerified) return;
  for (const repo of new Set(live.map((f) => f.repo))) {
    const st = await lstat(run.layoutFor(repo).blobPath(g.blob), { bigint: true }).catch(() => undefined);
    if (st?.isFile() && Number(st.size) === g.size) {
      done.blobVerified({ repo, blob: g.blob, source: 'placed', size: g.size, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs, ino: st.ino, dev: st.dev });
    }
  }
}

import { shardTotals } from '@hfhpc/core';
import { placeGroup } from './shard/place-group.js';
import { openShardRun } from './shard/shard-run.js';
import { ShardPages } from './shard/shard-pages.js';
import type { RunShardParams, RunShardResult } from './shard/types.js';

export type { ProgressSink, RunShardParams, RunShardResult, ShardFailure } from './shard/types.js';

/**
 * Work through one leased shard: fetch each missing blob once (or reuse it from another repo
 * folder), place every file's snapshot link, record each file done or failed. A file that
 * fails is recorded with its reason and the shard goes on. Stops early, rethrowing, on a stop
 * signal or a lost lease (the signal's reason), and on a DiskError (the task cannot go on).
 * The shard's files are read a page at a time as the work drains (ShardPages).
 */
export async function runShard(params: RunShardParams): Promise<RunShardResult> {
  // One failure that stops the shard (disk, lease, bug) aborts the other downloads at once.
  const local = new AbortController();
  const onAbort = (): void => local.abort(params.signal.reason);
  if (params.signal.aborted) onAbort();
  else params.signal.addEventListener('abort', onAbort, { once: true });
  const { store, claim, meter } = params;
  try {
    const run = await openShardRun(params, local.signal);
    const totals = await store.readAsync(() => shardTotals(store, claim.shardId));
    // Files set aside as done are counted as their page is read.
    meter.addShard({ index: claim.index, files: totals.files, bytes: totals.bytes, filesDone: 0, bytesDone: 0 });
    const source = new ShardPages({ run, pageSize: params.pageSize, onPage: params.onPage, connections: params.connections });
    let failure: { err: unknown } | undefined;
    // As run-pool: no new group starts once aborted; those running see the signal and are awaited.
    const runner = async (): Promise<void> => {
      while (!local.signal.aborted && !failure) {
        let g;
        try {
          g = await source.next();
        } catch (err) {
          failure ??= { err };
          local.abort(err);
          return;
        }
        if (!g) return;
        try {
          await placeGroup(run, g);
        } catch (err) {
          failure ??= { err };
          local.abort(err);
        } finally {
          source.release(g);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, params.concurrency) }, runner));
    if (failure) throw failure.err;
    run.stopIfAborted();
    return { filesDone: run.filesDone, failures: run.failures, maxFilesHeld: source.maxFilesHeld, pages: source.pages };
  } finally {
    params.signal.removeEventListener('abort', onAbort);
  }
}

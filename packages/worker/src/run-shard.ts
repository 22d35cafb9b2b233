import { groupByBlob } from './shard/blob-group.js';
import { placeGroup } from './shard/place-group.js';
import { openShardRun, setAsideDone } from './shard/shard-run.js';
import type { RunShardParams, RunShardResult } from './shard/types.js';
import { runPool } from './run-pool.js';

export type { ProgressSink, RunShardParams, RunShardResult, ShardFailure } from './shard/types.js';

/**
 * Work through one leased shard: fetch each missing blob once (or reuse it from another repo
 * folder), place every file's snapshot link, record each file done or failed. A file that
 * fails is recorded with its reason and the shard goes on. Stops early, rethrowing, on a stop
 * signal or a lost lease (the signal's reason), and on a DiskError (the task cannot go on).
 */
export async function runShard(params: RunShardParams): Promise<RunShardResult> {
  // One failure that stops the shard (disk, lease, bug) aborts the other downloads at once.
  const local = new AbortController();
  const onAbort = (): void => local.abort(params.signal.reason);
  if (params.signal.aborted) onAbort();
  else params.signal.addEventListener('abort', onAbort, { once: true });
  const run = await openShardRun(params, local.signal);
  await setAsideDone(run);
  try {
    await runPool({
      items: groupByBlob([...run.todo]),
      concurrency: params.concurrency,
      signal: local.signal,
      work: async (g) => {
        try {
          await placeGroup(run, g);
        } catch (err) {
          local.abort(err);
          throw err;
        }
      },
    });
  } finally {
    params.signal.removeEventListener('abort', onAbort);
  }
  run.stopIfAborted();
  return { filesDone: run.filesDone, failures: run.failures };
}

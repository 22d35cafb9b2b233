/**
 * Run `task` over `items` with at most `concurrency` in flight, keeping input order in the
 * result. The first rejection stops new tasks from starting and is rethrown once the tasks
 * already running have settled (so no file handle outlives the call).
 */
export async function runPool<T, R>(params: {
  items: readonly T[];
  /** At most this many tasks at once (at least 1). */
  concurrency: number;
  task: (item: T, index: number) => Promise<R>;
}): Promise<R[]> {
  const { items, task } = params;
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { err: unknown } | undefined;
  const lane = async (): Promise<void> => {
    while (!failure && next < items.length) {
      const i = next++;
      try {
        results[i] = await task(items[i], i);
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  const lanes = Math.max(1, Math.min(params.concurrency, items.length));
  await Promise.all(Array.from({ length: lanes }, lane));
  if (failure) throw failure.err;
  return results;
}

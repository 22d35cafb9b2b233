/**
 * Run `work` over `items` with at most `concurrency` at once, in order. When `signal` aborts,
 * no new item starts; items already running see the same signal and are awaited, so nothing
 * is left writing when this returns. Rejections are the caller's to handle inside `work`;
 * one that escapes aborts nothing by itself but is rethrown after all runners stop.
 */
export async function runPool<T>(params: {
  items: readonly T[];
  concurrency: number;
  signal?: AbortSignal;
  work: (item: T) => Promise<void>;
}): Promise<void> {
  const { items, signal, work } = params;
  let next = 0;
  let failure: { err: unknown } | undefined;
  const runner = async (): Promise<void> => {
    while (next < items.length && !signal?.aborted && !failure) {
      const item = items[next++];
      try {
        await work(item);
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  const n = Math.max(1, Math.min(params.concurrency, items.length));
  await Promise.all(Array.from({ length: n }, runner));
  if (failure) throw failure.err;
}

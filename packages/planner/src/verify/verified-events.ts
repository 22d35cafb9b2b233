import type { Store } from '@hfhpc/core';

/**
 * Record that files were verified: one `verified` event per file (the store has no column for
 * it; a file counts as verified while no later change touched its `updated_at`). Written in
 * batches so a 100,000-file verify holds the write lock for milliseconds at a time.
 */
export function recordVerified(params: { store: Store; planId: number; fileIds: readonly number[]; batch?: number }): void {
  const { store, planId, fileIds, batch = 2000 } = params;
  for (let i = 0; i < fileIds.length; i += batch) {
    const slice = fileIds.slice(i, i + batch);
    store.write((db) => {
      const at = store.now();
      const ins = db.prepare("INSERT INTO events (at, plan_id, file_id, kind) VALUES (?, ?, ?, 'verified')");
      for (const id of slice) ins.run(at, planId, id);
    });
  }
}

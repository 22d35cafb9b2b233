// What `hfhpc run --local` shows while its tasks run: the plan's totals, read from the database.
import { listShards, openStore } from '@hfhpc/core';

/** The plan's totals, as a progress view shows them. */
export interface LocalProgress {
  filesDone: number;
  filesFailed: number;
  filesTotal: number;
  bytesDone: number;
  bytesTotal: number;
}

/** A live view of a local run (the progress bar on a terminal). */
export interface LocalProgressView {
  /** The plan's totals, every second or so. */
  update(p: LocalProgress): void;
  /** A line a task wrote, other than its `Progress:` lines (the view shows those). */
  log(line: string): void;
  stop(): void;
}

/**
 * The plan's totals from its shards (one short read transaction, O(shards)). A locked database
 * is given up on after `waitMs` (default 200 ms, then a StateError): the caller skips one
 * redraw rather than block the thread that forwards stop signals to the tasks.
 */
export function readLocalProgress(params: { dbPath: string; planId: number; waitMs?: number }): LocalProgress {
  const waitMs = params.waitMs ?? 200;
  const store = openStore({ path: params.dbPath, create: false, readonly: true, busyTimeoutMs: waitMs, busyRetryMs: waitMs });
  try {
    const p: LocalProgress = { filesDone: 0, filesFailed: 0, filesTotal: 0, bytesDone: 0, bytesTotal: 0 };
    for (const s of listShards(store, params.planId)) {
      p.filesDone += s.filesDone;
      p.filesFailed += s.filesFailed;
      p.filesTotal += s.filesTotal;
      p.bytesDone += s.bytesDone;
      p.bytesTotal += s.bytesTotal;
    }
    return p;
  } finally {
    store.close();
  }
}

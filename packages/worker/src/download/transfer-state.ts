// What one download carries from attempt to attempt: the open partial file, the hash of the
// bytes in it, and where the next byte goes.
import type { FileHandle } from 'node:fs/promises';
import type { BlobHasher } from './blob-hash.js';
import type { HashingFileSink } from './hashing-file-sink.js';
import type { StreamHash } from './stream-hash.js';
import type { DownloadLease } from './types.js';

export interface TransferState {
  readonly handle: FileHandle;
  readonly hasher: BlobHasher;
  readonly size: number;
  /** Covers exactly bytes [0, offset) of the partial file. */
  hash: StreamHash;
  /** Bytes on disk. */
  offset: number;
  /** Bytes received from the network and written, over all attempts. */
  fetched: number;
  /** Set once the partial was emptied to start over (the resumed bytes were not kept). */
  restarted?: boolean;
  /** Writes may bypass `handle` (go to the hash's thread by fd): false when the caller injected its own fs. */
  readonly writeOnHashThread: boolean;
  /** Set when a ranged answer came compressed: Range is useless with that server, fetch whole. */
  noRange: boolean;
  /** Checked before every write batch (see DownloadLease). */
  readonly lease?: DownloadLease;
  readonly now: () => number;
  /** The body being written right now (for progress reads). */
  sink?: HashingFileSink;
}

/** Bytes on disk right now, including an attempt in progress. */
export function liveOffset(state: TransferState): number {
  return state.sink?.position ?? state.offset;
}

/** Empty the partial file and start hashing from byte 0 again. */
export async function restartFromZero(state: TransferState): Promise<void> {
  await state.handle.truncate(0);
  state.hash.dispose();
  state.hash = state.hasher.start();
  state.offset = 0;
  state.restarted = true;
}

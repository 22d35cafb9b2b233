// Picking up an existing `.incomplete` file: its bytes are hashed once (the only read of
// anything we wrote) so the download continues from its end with `Range`.
import type { FileHandle } from 'node:fs/promises';
import type { StreamHash } from './stream-hash.js';

export interface ResumePartialParams {
  handle: FileHandle;
  /** Fresh hash state; receives the bytes already on disk. */
  hash: StreamHash;
  /** Expected blob size: a longer partial cannot be a prefix of the blob and is emptied. */
  size: number;
  signal?: AbortSignal;
  /** Read buffer size. Default 1 MiB. */
  chunkBytes?: number;
}

/** Hash the partial file's bytes into `hash` and return how many there are (the resume offset). */
export async function resumePartial(params: ResumePartialParams): Promise<number> {
  const { handle, hash, size, signal, chunkBytes = 1 << 20 } = params;
  const onDisk = (await handle.stat()).size;
  if (onDisk > size) {
    await handle.truncate(0);
    return 0;
  }
  const buffer = Buffer.allocUnsafe(Math.min(chunkBytes, Math.max(onDisk, 1)));
  let offset = 0;
  while (offset < onDisk) {
    signal?.throwIfAborted();
    const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, onDisk - offset), offset);
    if (bytesRead === 0) break; // shrank under us: keep what was read
    // The buffer is reused on the next read: update copies (threaded) or consumes (local) it first.
    await hash.update([buffer.subarray(0, bytesRead)]);
    offset += bytesRead;
  }
  if (offset < onDisk) await handle.truncate(offset);
  return offset;
}

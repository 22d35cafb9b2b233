import { join } from 'node:path';
import { opendir } from 'node:fs/promises';
import { UnsafeCacheError, lstatOwnFile, parsePartialName, type CacheLayout } from '@hfhpc/core';

/**
 * The size of a regular file hfhpc owns (a blob, a partial), or undefined. Never follows a link:
 * a symlink there is an UnsafeCacheError (nothing is read or written through it).
 */
export async function sizeOf(path: string): Promise<number | undefined> {
  const st = await lstatOwnFile(path).catch((err: unknown) => {
    if (err instanceof UnsafeCacheError) throw err;
    return undefined;
  });
  return st?.isFile() ? st.size : undefined;
}

/**
 * The partial files in a blobs folder by the blob they become (every claim's, and the legacy
 * name). Streamed: only partial names are kept, however many blobs the folder holds.
 */
export async function listPartials(layout: CacheLayout): Promise<Map<string, string[]>> {
  const byBlob = new Map<string, string[]>();
  const dir = await opendir(layout.blobsDir).catch(() => undefined);
  if (!dir) return byBlob;
  for await (const entry of dir) {
    const name = entry.name;
    if (!name.endsWith('.incomplete')) continue;
    const p = parsePartialName(name);
    if (!p) continue;
    let list = byBlob.get(p.blob);
    if (!list) byBlob.set(p.blob, (list = []));
    list.push(join(layout.blobsDir, name));
  }
  return byBlob;
}

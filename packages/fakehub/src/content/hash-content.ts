// sha256 of a file's content and its git blob sha1 (sha1 of "blob <len>\0" + content).
import { createHash, type Hash } from 'node:crypto';
import { contentChunks, sourceSize, type ContentSource } from './content-source.js';

export type HashKind = 'sha256' | 'gitSha1';

function startHash(source: ContentSource, kind: HashKind): Hash {
  if (kind === 'sha256') return createHash('sha256');
  return createHash('sha1').update(`blob ${sourceSize(source)}\0`);
}

/** Hash synchronously: fine for small files, blocks the event loop on big ones. */
export function hashContentSync(params: { source: ContentSource; kind: HashKind }): string {
  const h = startHash(params.source, params.kind);
  for (const chunk of contentChunks({ source: params.source })) h.update(chunk);
  return h.digest('hex');
}

/**
 * Hash without starving the server: yields to the event loop every `yieldEvery` bytes
 * (default 32 MiB), so a multi-GB file does not stall requests being served meanwhile.
 */
export async function hashContent(params: { source: ContentSource; kind: HashKind; yieldEvery?: number }): Promise<string> {
  const yieldEvery = params.yieldEvery ?? 32 << 20;
  const h = startHash(params.source, params.kind);
  let sinceYield = 0;
  for (const chunk of contentChunks({ source: params.source })) {
    h.update(chunk);
    sinceYield += chunk.length;
    if (sinceYield >= yieldEvery) {
      sinceYield = 0;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  return h.digest('hex');
}

/** Git blob sha1 of literal bytes (an LFS pointer file, for one). */
export function gitBlobSha1(bytes: Buffer): string {
  return createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
}

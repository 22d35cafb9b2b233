// A file's bytes: generated from (seed, size) or literal. Read as zero-copy slices.
import { BLOCK_SIZE, blockStart, getPool } from './pool.js';

export type ContentSource =
  | { kind: 'generated'; seed: number; size: number }
  | { kind: 'text'; bytes: Buffer };

export function sourceSize(source: ContentSource): number {
  return source.kind === 'text' ? source.bytes.length : source.size;
}

/**
 * Slices covering bytes [start, end) of the source, each at most one block (1 MiB) and never
 * crossing a block boundary. The slices share memory with the pool: never write into them.
 */
export function* contentChunks(params: { source: ContentSource; start?: number; end?: number }): Generator<Buffer> {
  const { source } = params;
  const size = sourceSize(source);
  const start = Math.max(0, params.start ?? 0);
  const end = Math.min(size, params.end ?? size);
  if (source.kind === 'text') {
    if (end > start) yield source.bytes.subarray(start, end);
    return;
  }
  const pool = getPool();
  let pos = start;
  while (pos < end) {
    const block = Math.floor(pos / BLOCK_SIZE);
    const within = pos - block * BLOCK_SIZE;
    const take = Math.min(BLOCK_SIZE - within, end - pos);
    const at = blockStart({ seed: source.seed, block }) + within;
    yield pool.subarray(at, at + take);
    pos += take;
  }
}

/** A copy of bytes [start, end): for tests and small files. */
export function readContent(params: { source: ContentSource; start?: number; end?: number }): Buffer {
  return Buffer.concat([...contentChunks(params)]);
}

// Generated content without disk or memory per file: one shared pool of pseudo-random bytes,
// and each 1 MiB block of a file is a window into it whose start depends on (seed, block
// index). Any byte is a pure function of (seed, offset), so Range answers are exact, a 10 GB
// file costs nothing, and serving is zero-copy slices of one buffer.
import { createCipheriv, createHash } from 'node:crypto';

/** Bytes per block; blocks are served as slices of the pool. */
export const BLOCK_SIZE = 1 << 20;
/** Distinct block start positions; the pool holds this plus one block. */
const POOL_POSITIONS = 16 << 20;

let pool: Buffer | undefined;

/** The pool: AES-CTR keystream under a fixed key, so it is the same on every machine. */
export function getPool(): Buffer {
  if (!pool) {
    const key = createHash('sha256').update('hfhpc-fakehub pool v1').digest().subarray(0, 16);
    const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
    pool = Buffer.concat([cipher.update(Buffer.alloc(POOL_POSITIONS + BLOCK_SIZE)), cipher.final()]);
  }
  return pool;
}

// murmur3's 32-bit finaliser: cheap and well mixed.
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Where block `block` of a file with `seed` starts in the pool. */
export function blockStart(params: { seed: number; block: number }): number {
  const { seed, block } = params;
  let h = fmix32((seed >>> 0) ^ 0x9e3779b9);
  h = fmix32(h ^ Math.floor(seed / 2 ** 32));
  h = fmix32(h ^ (block >>> 0));
  h = fmix32(h ^ Math.floor(block / 2 ** 32));
  return h % POOL_POSITIONS;
}

// The write loop shared by the file sink (main thread) and the hash thread. It imports nothing,
// so the hash thread loads no more than it needs.

/** One positioned `writev`: resolves to the bytes written, which may be fewer than asked. */
export type PositionedWritev = (buffers: readonly Uint8Array[], position: number) => Promise<number>;

/** `writev` may write less than asked (it does not loop); finish the rest. */
export async function writeAll(writev: PositionedWritev, buffers: readonly Uint8Array[], position: number): Promise<void> {
  let pending = buffers;
  let at = position;
  while (pending.length) {
    const written = await writev(pending, at);
    at += written;
    pending = skipBytes(pending, written);
  }
}

function skipBytes(buffers: readonly Uint8Array[], n: number): Uint8Array[] {
  let rest = n;
  let i = 0;
  while (i < buffers.length && rest >= buffers[i].length) rest -= buffers[i++].length;
  const out = buffers.slice(i);
  if (rest > 0 && out.length) out[0] = out[0].subarray(rest);
  return out;
}

// Streams bytes [start, end) of a source as a response body: large zero-copy writes with
// backpressure, plus the body-level faults (drop after K bytes, one corrupted byte, a
// bandwidth cap).
import type { ServerResponse } from 'node:http';
import { contentChunks, type ContentSource } from '../content/content-source.js';
import type { RequestRecord } from '../types.js';
import { sleepUnlessClosed, waitDrain } from './wait.js';

/** Keep up to this much queued in the socket before waiting for 'drain'. */
const HIGH_WATER = 4 << 20;

export interface BodyFaults {
  /** Destroy the connection once this many body bytes were sent. */
  dropAfter?: number;
  /** File offset of one byte to flip (when inside [start, end)). */
  corruptAt?: number;
  /** Pace the body to about this many bytes per second. */
  bytesPerSecond?: number;
}

export async function sendContent(params: {
  res: ServerResponse;
  source: ContentSource;
  start: number;
  end: number;
  record: RequestRecord;
  faults?: BodyFaults;
}): Promise<void> {
  const { res, record } = params;
  const faults = params.faults ?? {};
  const limit = faults.dropAfter ?? Infinity;
  const bps = faults.bytesPerSecond;
  const began = Date.now();
  let offset = params.start;
  let sent = 0;
  for (let chunk of contentChunks({ source: params.source, start: params.start, end: params.end })) {
    if (res.destroyed) return;
    if (faults.corruptAt !== undefined && faults.corruptAt >= offset && faults.corruptAt < offset + chunk.length) {
      chunk = Buffer.from(chunk); // never write into the shared pool
      chunk[faults.corruptAt - offset] ^= 0xff;
    }
    offset += chunk.length;
    if (sent + chunk.length >= limit) {
      const piece = chunk.subarray(0, limit - sent);
      record.bytesSent += piece.length;
      // Let the bytes reach the socket, then cut it: the client sees a short body.
      res.write(piece, () => res.socket?.destroy());
      if (piece.length === 0) res.socket?.destroy();
      return;
    }
    const step = bps ? Math.max(1024, Math.floor(bps / 20)) : chunk.length;
    for (let i = 0; i < chunk.length; i += step) {
      const piece = step >= chunk.length ? chunk : chunk.subarray(i, i + step);
      res.write(piece);
      sent += piece.length;
      record.bytesSent += piece.length;
      if (bps) await sleepUnlessClosed(began + (sent / bps) * 1000 - Date.now(), res);
      if (res.writableLength >= HIGH_WATER) await waitDrain(res);
      if (res.destroyed) return;
    }
  }
  if (limit <= sent) {
    res.socket?.destroy();
    return;
  }
  res.end();
}

// Answers a GET/HEAD for a file's bytes (git files on the Hub, LFS objects on the CDN):
// Range → 206/416, gzip for text when allowed, and the byte-level faults.
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { gzipSync } from 'node:zlib';
import { readContent, sourceSize, type ContentSource } from '../content/content-source.js';
import type { CorruptBytesFault, DropConnectionFault, BandwidthFault, FaultSet, FaultTarget } from '../faults/fault-set.js';
import { parseRange } from './parse-range.js';
import type { Reply } from './respond.js';
import { sendContent, type BodyFaults } from './send-content.js';

/** Bigger text files are sent as they are, like the Hub does for large files. */
const GZIP_MAX = 10 << 20;

export interface ServeParams extends Reply {
  req: IncomingMessage;
  source: ContentSource;
  /** Headers every answer carries (ETag, X-Repo-Commit, Content-Type…). */
  headers: OutgoingHttpHeaders;
  faults: FaultSet;
  target: FaultTarget;
  /** Gzip when the client accepts it and sent no Range. */
  gzip?: boolean;
  /** Weak ETag to use with gzip (the Hub sends `W/"<sha1>"`). */
  weakEtag?: string;
  /** Per-connection cap: each body paced to at most this many bytes per second. */
  bytesPerSecond?: number;
}

function bodyFaults(p: ServeParams, start: number, end: number): BodyFaults {
  if (p.head || end <= start) return {};
  const out: BodyFaults = {};
  const drop = p.faults.take<DropConnectionFault>('drop-connection', p.target, (o) => o.afterBytes < end - start);
  if (drop) {
    out.dropAfter = drop.options.afterBytes;
    p.record.faults.push('drop-connection');
  }
  const corrupt = p.faults.take<CorruptBytesFault>('corrupt-bytes', p.target, (o) => {
    const at = o.offset ?? start;
    return at >= start && at < end;
  });
  if (corrupt) {
    out.corruptAt = corrupt.options.offset ?? start;
    p.record.faults.push('corrupt-bytes');
  }
  const bw = p.faults.take<BandwidthFault>('bandwidth', p.target);
  if (bw) {
    out.bytesPerSecond = bw.options.bytesPerSecond;
    p.record.faults.push('bandwidth');
  }
  // The connection cap and a bandwidth fault together: the slower one holds.
  if (p.bytesPerSecond !== undefined) out.bytesPerSecond = Math.min(out.bytesPerSecond ?? Infinity, p.bytesPerSecond);
  return out;
}

export async function serveSource(p: ServeParams): Promise<void> {
  const { res, record } = p;
  const size = sourceSize(p.source);
  let range = parseRange({ header: p.req.headers.range, size });
  if (range.kind !== 'none' && p.faults.take('ignore-range', p.target)) {
    record.faults.push('ignore-range');
    range = { kind: 'none' };
  }
  const base: OutgoingHttpHeaders = { 'Accept-Ranges': 'bytes', ...p.headers };
  if (range.kind === 'unsatisfiable') {
    res.writeHead(416, { ...base, 'Content-Range': `bytes */${size}`, 'Content-Length': 0 });
    record.status = 416;
    res.end();
    return;
  }
  const accepts = /\bgzip\b/i.test(String(p.req.headers['accept-encoding'] ?? ''));
  if (range.kind !== 'range' && p.gzip && accepts && size > 0 && size <= GZIP_MAX) {
    const gz = gzipSync(readContent({ source: p.source }));
    // Chunked, no Content-Length, weak ETag: as the Hub answers compressible text.
    res.writeHead(200, { ...base, ...(p.weakEtag ? { ETag: p.weakEtag } : {}), 'Content-Encoding': 'gzip', Vary: 'Accept-Encoding' });
    record.status = 200;
    if (p.head) return void res.end();
    const gzSource: ContentSource = { kind: 'text', bytes: gz };
    await sendContent({ res, source: gzSource, start: 0, end: gz.length, record, faults: bodyFaults(p, 0, gz.length) });
    return;
  }
  const [start, end, status] = range.kind === 'range' ? [range.start, range.end, 206] : [0, size, 200];
  const headers: OutgoingHttpHeaders = { ...base, 'Content-Length': end - start };
  if (status === 206) headers['Content-Range'] = `bytes ${start}-${end - 1}/${size}`;
  res.writeHead(status, headers);
  record.status = status;
  if (p.head) return void res.end();
  await sendContent({ res, source: p.source, start, end, record, faults: bodyFaults(p, start, end) });
}

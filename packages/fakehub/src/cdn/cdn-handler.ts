// The CDN listener: serves LFS objects for signed, unexpired URLs, with Range. It never
// needs Authorization; the log records whether one arrived anyway.
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ContentSource } from '../content/content-source.js';
import type { FaultSet, FaultTarget, RateLimitFault, ServerErrorFault, SlowFirstByteFault } from '../faults/fault-set.js';
import { newRecord } from '../http/new-record.js';
import { sendBody, type Reply } from '../http/respond.js';
import { serveSource } from '../http/serve-source.js';
import { sleepUnlessClosed } from '../http/wait.js';
import type { FakeHubStats, RequestRecord } from '../types.js';
import type { CdnSigner } from './cdn-signer.js';

export interface CdnHandlerParams {
  signer: CdnSigner;
  faults: FaultSet;
  /** LFS objects by sha256 (filled as the Hub resolves files). */
  objects: Map<string, ContentSource>;
  now: () => number;
  log: () => RequestRecord[] | undefined;
  /** `X-Cache` value on answers (default "Miss from cloudfront"); false sends none. */
  xCache: string | false;
  /** Answer 400 when an Authorization header arrives, as S3 does for signed URLs (default false). */
  rejectAuthorization: boolean;
  /** Pace each response body to this many bytes per second (undefined: as fast as it goes). */
  connRate?: number;
  /** Counters this handler adds to. */
  stats: FakeHubStats;
  /** Called once the answer is finished or the connection closed. */
  onResponse?: (record: RequestRecord) => void;
  onError: (err: unknown) => void;
}

function s3Error(r: Reply, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
  sendBody(
    r,
    status,
    { 'Content-Type': 'application/xml', ...headers },
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`,
  );
}

/** An S3-style multipart ETag: opaque and unrelated to sha256, like the real CDN's. */
function s3Etag(sha256: string, size: number): string {
  const md5 = createHash('md5').update(sha256).digest('hex');
  return `"${md5}-${Math.max(1, Math.ceil(size / (8 << 20)))}"`;
}

export function createCdnHandler(p: CdnHandlerParams): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const record = newRecord({ req, host: 'cdn', at: p.now() });
    p.log()?.push(record);
    res.once('close', () => {
      p.stats.cdnRequests++;
      p.stats.cdnBytesSent += record.bytesSent;
      p.onResponse?.(record);
    });
    handle(p, req, res, record).catch((err: unknown) => {
      p.onError(err);
      if (!res.headersSent) {
        record.status = 500;
        res.writeHead(500).end();
      } else res.destroy();
    });
  };
}

type UrlVerdict = ReturnType<CdnSigner['verify']>;

async function handle(p: CdnHandlerParams, req: IncomingMessage, res: ServerResponse, record: RequestRecord): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://fakehub-cdn.invalid');
  const method = (req.method ?? 'GET').toUpperCase();
  const r: Reply = { res, record, head: method === 'HEAD' };
  const verdict = p.signer.verify({ url, nowSeconds: Math.floor(p.now() / 1000) });
  const target: FaultTarget = { host: 'cdn', endpoint: 'cdn', method, repo: verdict.repo, path: verdict.path };
  record.endpoint = 'cdn';
  record.repo = verdict.repo;
  record.filePath = verdict.path;
  if (await answeredByFault(p, r, target)) return;
  if (refused(p, req, r, verdict, target) || !verdict.ok) return;
  const source = p.objects.get(verdict.sha256);
  if (!source) return s3Error(r, 404, 'NoSuchKey', 'The specified key does not exist.');
  const size = source.kind === 'text' ? source.bytes.length : source.size;
  await serveSource({
    ...r,
    req,
    source,
    faults: p.faults,
    target,
    bytesPerSecond: p.connRate,
    headers: {
      'Content-Type': 'application/octet-stream',
      ETag: s3Etag(verdict.sha256, size),
      'Last-Modified': new Date(Date.UTC(2024, 0, 1)).toUTCString(),
      'Content-Disposition': (url.searchParams.get('response-content-disposition') ?? 'attachment').replace(/[^\x20-\x7e]/gu, '_'),
      ...(p.xCache ? { 'X-Cache': p.xCache } : {}),
    },
  });
}

/** Slow first byte, then a 429 or 5xx fault; true when answered. */
async function answeredByFault(p: CdnHandlerParams, r: Reply, target: FaultTarget): Promise<boolean> {
  const { record, res } = r;
  const slow = p.faults.take<SlowFirstByteFault>('slow-first-byte', target);
  if (slow) {
    record.faults.push('slow-first-byte');
    await sleepUnlessClosed(slow.options.delayMs, res);
    if (res.destroyed) return true;
  }
  const limited = p.faults.take<RateLimitFault>('rate-limit', target);
  if (limited) {
    record.faults.push('rate-limit');
    s3Error(r, 429, 'SlowDown', 'Please reduce your request rate.', { 'Retry-After': String(limited.options.retryAfterSeconds ?? 1) });
    return true;
  }
  const failing = p.faults.take<ServerErrorFault>('server-error', target);
  if (failing) {
    record.faults.push('server-error');
    s3Error(r, failing.options.status ?? 503, 'ServiceUnavailable', 'Service Unavailable');
    return true;
  }
  return false;
}

/** S3's answers to a wrong method, a second auth mechanism, a bad or expired signature; true when refused. */
function refused(p: CdnHandlerParams, req: IncomingMessage, r: Reply, verdict: UrlVerdict, target: FaultTarget): boolean {
  const method = target.method;
  if (method !== 'GET' && method !== 'HEAD') {
    s3Error(r, 405, 'MethodNotAllowed', 'The specified method is not allowed');
  } else if (p.rejectAuthorization && req.headers.authorization !== undefined) {
    s3Error(r, 400, 'InvalidArgument', 'Only one auth mechanism allowed');
  } else if (!verdict.ok) {
    if (verdict.reason === 'expired') s3Error(r, 403, 'AccessDenied', 'Request has expired');
    else s3Error(r, 403, 'AccessDenied', verdict.reason === 'signature' ? 'Invalid signature' : 'Missing Key-Pair-Id query parameter or cookie value');
  } else if (p.faults.take('expire-cdn-url', target)) {
    r.record.faults.push('expire-cdn-url');
    s3Error(r, 403, 'AccessDenied', 'Request has expired');
  } else {
    return false;
  }
  return true;
}

// One GET, with redirects followed here rather than by got: the token goes to the Hub's origin
// (scheme, host and port) only, so a relative 307 for a renamed repo keeps it and the 302 to the
// CDN drops it, and we learn the CDN URL to resume from without another resolve.
import type { Got, PlainResponse, Request as GotRequest } from 'got';
import { HubError, displayUrl, isLoopbackHost, sameOrigin, stripEtag } from '@hfhpc/core';
import type { HttpSource } from '@hfhpc/core';
import type { DownloadGate, DownloadTimeouts } from './types.js';

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export interface OpenResponseParams {
  url: string;
  hubOrigin: string;
  token?: string;
  /** Send `Range: bytes=<rangeStart>-` when > 0. */
  rangeStart: number;
  /** With it, ask for `bytes=<rangeStart>-<rangeEnd>` (inclusive end), even from 0: one segment of a ranged download. */
  rangeEnd?: number;
  got: Got;
  timeouts: DownloadTimeouts;
  /** Waited on before every request to the Hub (not the CDN: its downloads are not rate-limited). */
  gate: DownloadGate;
  signal?: AbortSignal;
  /** Default 10. */
  maxRedirects?: number;
  /**
   * Called with what the Hub states about the content (before a redirect is followed, or on
   * a direct answer); may throw to stop before any body is fetched.
   */
  checkHubIdentity?: (stated: { hubEtag?: string; hubSize?: number }) => void;
}

export interface OpenedResponse {
  /** The body, not yet read. Its errors are also kept on the stream for `pipeline`. */
  stream: GotRequest;
  response: PlainResponse;
  /** The URL that answered (the CDN's signed URL after a redirect). */
  url: string;
  source: HttpSource;
  /** The content's identity as the Hub stated it: X-Linked-Etag/-Size on a redirect, ETag on a direct answer. */
  hubEtag?: string;
  hubSize?: number;
}

export async function openResponse(params: OpenResponseParams): Promise<OpenedResponse> {
  const { hubOrigin, gate, signal, checkHubIdentity } = params;
  let url = new URL(params.url);
  let hubEtag: string | undefined;
  let hubSize: number | undefined;
  for (let hops = 0; ; hops++) {
    const source: HttpSource = sameOrigin(url, hubOrigin) ? 'hub' : 'cdn';
    if (source === 'hub') await gate.wait(signal);
    signal?.throwIfAborted();
    const stream = request(params, url, source);
    const response = await responseOf(stream, signal);
    if (source === 'hub') gate.observe?.(response.headers);
    const status = response.statusCode;
    const location = response.headers.location;
    if (!REDIRECTS.has(status) || !location) {
      if (source === 'hub' && status === 200) {
        hubEtag ??= etagOf(response.headers.etag);
        hubSize ??= sizeOf(response.headers['content-length'], response.headers['content-encoding']);
      }
      try {
        checkHubIdentity?.({ hubEtag, hubSize });
      } catch (err) {
        stream.destroy();
        throw err;
      }
      return { stream, response, url: url.href, source, hubEtag, hubSize };
    }
    if (source === 'hub') {
      hubEtag ??= etagOf(response.headers['x-linked-etag']);
      hubSize ??= sizeOf(response.headers['x-linked-size'], undefined);
    }
    // Read the small redirect body so the socket goes back to the keep-alive pool.
    stream.resume();
    if (source === 'hub') checkHubIdentity?.({ hubEtag, hubSize });
    url = nextHop(params, url, location, hops);
  }
}

/** One request, redirects not followed: the caller checks each hop. */
function request(params: OpenResponseParams, url: URL, source: HttpSource): GotRequest {
  const { token, rangeStart, rangeEnd, got, timeouts } = params;
  const headers: Record<string, string> = {
    // Sizes and Range offsets then refer to the stored bytes; a server that compresses
    // anyway is decoded by got (decompress) and checked by hash.
    'accept-encoding': 'identity',
    'user-agent': 'hfhpc (+got)',
  };
  if (source === 'hub' && token) headers.authorization = `Bearer ${token}`;
  if (rangeEnd !== undefined) headers.range = `bytes=${rangeStart}-${rangeEnd}`;
  else if (rangeStart > 0) headers.range = `bytes=${rangeStart}-`;
  return got.stream(url, {
    headers,
    followRedirect: false,
    throwHttpErrors: false,
    decompress: true,
    retry: { limit: 0 },
    timeout: { connect: timeouts.connectMs, response: timeouts.firstByteMs },
  });
}

/** Where a redirect leads: HTTPS only (plain HTTP from plain HTTP or to loopback), at most `maxRedirects` hops. */
function nextHop(params: OpenResponseParams, url: URL, location: string, hops: number): URL {
  const { maxRedirects = 10 } = params;
  const next = new URL(location, url);
  if (hops + 1 > maxRedirects) {
    throw new HubError(`more than ${maxRedirects} redirects for ${displayUrl(params.url)}`, { url: displayUrl(params.url) });
  }
  if (next.protocol !== 'https:' && !(next.protocol === 'http:' && (url.protocol === 'http:' || isLoopbackHost(next.hostname)))) {
    throw new HubError(`refusing redirect from ${displayUrl(url.href)} to ${displayUrl(next.href)}`, {
      url: displayUrl(url.href),
      hint: 'the Hub redirected to an insecure or unsupported URL; report it',
    });
  }
  return next;
}

/** The response, or the request error (connect/first-byte timeout, refused, reset). */
function responseOf(stream: GotRequest, signal: AbortSignal | undefined): Promise<PlainResponse> {
  // Errors after this point surface through `pipeline` (the stream stays errored); this
  // listener only keeps an early one from being an unhandled 'error' event.
  stream.on('error', () => {});
  return new Promise((resolve, reject) => {
    const onAbort = () => stream.destroy();
    const done = () => {
      stream.off('response', onResponse);
      stream.off('error', onError);
      stream.off('close', onClose);
      signal?.removeEventListener('abort', onAbort);
    };
    const onResponse = (response: PlainResponse) => {
      done();
      resolve(response);
    };
    const onError = (err: Error) => {
      done();
      reject(err);
    };
    // A destroy without an error emits only 'close'.
    const onClose = () => onError(Object.assign(new Error('request closed'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }));
    stream.once('response', onResponse);
    stream.once('error', onError);
    stream.once('close', onClose);
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function etagOf(value: string | string[] | undefined): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  return v ? stripEtag(v).toLowerCase() : undefined;
}

function sizeOf(value: string | string[] | undefined, encoding: string | string[] | undefined): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v || !/^\d+$/.test(v.trim())) return undefined;
  // A compressed answer's length is not the content's.
  if (encoding && String(encoding).toLowerCase() !== 'identity') return undefined;
  return Number(v);
}

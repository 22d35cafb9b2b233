// One transfer attempt: open (resolve + redirects, or the cached CDN URL), check what came
// back, and stream the body into the partial file from the current offset. Failures the
// caller may retry come back as outcomes; disk errors, aborts and a Hub that contradicts the
// plan are thrown.
import type { Got } from 'got';
import { HfhpcError, IntegrityError, classifyHttpFailure } from '@hfhpc/core';
import type { HttpSource } from '@hfhpc/core';
import { toDiskError } from '../disk-error.js';
import { abortError } from './abort-error.js';
import { HashingFileSink } from './hashing-file-sink.js';
import { openResponse, type OpenedResponse } from './open-response.js';
import { watchStall, type StallWatch } from './stall-watch.js';
import { streamInto } from './stream-into.js';
import { restartFromZero, type TransferState } from './transfer-state.js';
import type { DownloadGate, DownloadLog, DownloadTimeouts } from './types.js';
import { DiskError } from '@hfhpc/core';

export type AttemptOutcome =
  | { kind: 'complete'; url: string; source: HttpSource }
  | { kind: 'http'; statusCode: number; headers: Record<string, string | string[] | undefined>; body: Buffer; url: string; source: HttpSource }
  /** `source` is set when the failure came after an answer (mid-body), from that URL. */
  | { kind: 'network'; code: string; retryable: boolean; url: string; source?: HttpSource; cause?: unknown }
  /** The server's bytes cannot be this blob from this offset: start over from 0. */
  | { kind: 'mismatch'; reason: string; url: string };

export interface AttemptParams {
  state: TransferState;
  /** Resolve URL, or the CDN URL a previous attempt was redirected to. */
  url: string;
  hubOrigin: string;
  token?: string;
  got: Got;
  timeouts: DownloadTimeouts;
  gate: DownloadGate;
  signal?: AbortSignal;
  now: () => number;
  log?: DownloadLog;
  path: string;
  partialPath: string;
}

const ERROR_BODY_LIMIT = 64 * 1024;

export async function runAttempt(params: AttemptParams): Promise<AttemptOutcome> {
  const { state, signal } = params;
  const rangeStart = state.noRange ? 0 : state.offset;
  if (rangeStart === 0 && state.offset > 0) await restartFromZero(state);

  let opened: OpenedResponse;
  try {
    opened = await openResponse({ ...params, rangeStart, checkHubIdentity: (stated) => checkHubIdentity(stated, params) });
  } catch (err) {
    if (signal?.aborted) throw aborted(params);
    if (err instanceof HfhpcError) throw err;
    return networkOutcome(err, params.url);
  }
  const { stream } = opened;

  // From here the body flows; one watchdog and one abort hook for either kind of body.
  const body: BodyProgress = { errorBytes: 0 };
  const watch = watchStall({
    stallMs: params.timeouts.stallMs,
    progress: () => body.sink?.received ?? body.errorBytes,
    waitingOnDisk: () => body.sink?.writableNeedDrain ?? false,
    onStall: () => stream.destroy(),
    now: params.now,
  });
  const onAbort = () => stream.destroy();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const status = opened.response.statusCode;
    if (status !== 200 && status !== 206) return await readErrorBody(params, opened, body);
    const refused = await checkHeaders(params, opened, rangeStart);
    if (refused) return refused;
    return await streamBody(params, opened, body, watch);
  } finally {
    watch.stop();
    signal?.removeEventListener('abort', onAbort);
  }
}

/** What the stall watchdog counts: the sink's bytes once the body streams into one, else error-body bytes. */
interface BodyProgress {
  sink?: HashingFileSink;
  errorBytes: number;
}

/** An answer other than 200/206: its body (at most ERROR_BODY_LIMIT) only feeds the error message. */
async function readErrorBody(params: AttemptParams, opened: OpenedResponse, body: BodyProgress): Promise<AttemptOutcome> {
  const { stream, response, url, source } = opened;
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      body.errorBytes += chunk.length;
      if (body.errorBytes <= ERROR_BODY_LIMIT) chunks.push(chunk);
      else break;
    }
  } catch {
    // The body only feeds the error message.
  }
  if (params.signal?.aborted) throw aborted(params);
  return { kind: 'http', statusCode: response.statusCode, headers: response.headers, body: Buffer.concat(chunks), url, source };
}

/**
 * A 206 must be the asked range of this blob, uncompressed; a 200 the whole blob (the partial
 * starts over when the server ignored Range). An outcome when the answer cannot be used.
 */
async function checkHeaders(params: AttemptParams, opened: OpenedResponse, rangeStart: number): Promise<AttemptOutcome | undefined> {
  const { state, log, path } = params;
  const { stream, response, url, source } = opened;
  const encoded = isEncoded(response.headers['content-encoding']);
  if (response.statusCode === 206) {
    if (encoded) {
      stream.destroy();
      state.noRange = true;
      log?.warn('server compressed a ranged answer; fetching the whole file instead', { path });
      return { kind: 'network', code: 'ERANGEENCODED', retryable: true, url, source };
    }
    const range = parseContentRange(response.headers['content-range']);
    if (!range || range.start !== rangeStart || (range.total !== undefined && range.total !== state.size)) {
      stream.destroy();
      return { kind: 'mismatch', reason: `Content-Range ${String(response.headers['content-range'])} for bytes=${rangeStart}- of ${state.size}`, url };
    }
    return undefined;
  }
  if (rangeStart > 0) {
    // The server ignored Range: these bytes start at 0, so the partial starts over.
    log?.info('server ignored Range; restarting from 0', { path, offset: rangeStart });
    await restartFromZero(state);
  }
  const length = encoded ? undefined : Number(response.headers['content-length'] ?? Number.NaN);
  if (length !== undefined && Number.isFinite(length) && length !== state.size) {
    stream.destroy();
    return { kind: 'mismatch', reason: `Content-Length ${length}, expected ${state.size}`, url };
  }
  return undefined;
}

/** Stream the body into the partial file (the sink checks the lease before each write batch), then take stock. */
async function streamBody(params: AttemptParams, opened: OpenedResponse, body: BodyProgress, watch: StallWatch): Promise<AttemptOutcome> {
  const { state, signal } = params;
  const { stream, url, source } = opened;
  const sink = new HashingFileSink({ handle: state.handle, position: state.offset, hash: state.hash, limit: state.size, writeOnHashThread: state.writeOnHashThread, lease: state.lease, now: state.now });
  body.sink = sink;
  state.sink = sink;
  const startOffset = state.offset;
  const { sourceError, sinkError } = await streamInto(stream, sink);
  // The sink's last write may still be landing after an error: wait, then take stock.
  await sink.settled();
  state.offset = sink.position;
  state.fetched += sink.position - startOffset;
  state.sink = undefined;
  if (signal?.aborted) throw aborted(params, sink.position);
  if (sink.writeError) {
    throw toDiskError(sink.writeError, { path: params.partialPath, bytesNeeded: state.size - sink.position }) ?? asDiskError(sink.writeError, params.partialPath);
  }
  if (sink.overflow) return { kind: 'mismatch', reason: `more than the expected ${state.size} bytes`, url };
  // eslint-disable-next-line @typescript-eslint/only-throw-error -- the sink's own error, as it was
  if (sinkError) throw sinkError;
  if (sourceError) {
    if (watch.stalled) return { kind: 'network', code: 'ETIMEDOUT', retryable: true, url, source, cause: `no bytes for ${params.timeouts.stallMs} ms` };
    return { ...networkOutcome(sourceError, url), source };
  }
  // A clean end short of the size (some HTTP stacks report a cut body as a normal end).
  if (state.offset < state.size) return { kind: 'network', code: 'ESHORTBODY', retryable: true, url, source };
  return { kind: 'complete', url, source };
}

/** The Hub stated the content's size/identity and it is not what the plan expects: re-plan. */
function checkHubIdentity(stated: { hubEtag?: string; hubSize?: number }, params: AttemptParams): void {
  const { state, path } = params;
  const { hubEtag, hubSize } = stated;
  const want = state.hasher.want;
  const etagMismatch = hubEtag !== undefined && hubEtag.length === want.length && /^[0-9a-f]+$/.test(hubEtag) && hubEtag !== want;
  const sizeMismatch = hubSize !== undefined && hubSize !== state.size;
  if (!etagMismatch && !sizeMismatch) return;
  throw new IntegrityError(
    `the Hub describes ${path} as ${hubEtag ?? want} (${hubSize ?? state.size} bytes), the plan expects ${want} (${state.size} bytes)`,
    { hint: 'the plan does not match the Hub; run `hfhpc plan` again', context: { path, hubEtag, hubSize, want, size: state.size } },
  );
}

function networkOutcome(err: unknown, url: string): Extract<AttemptOutcome, { kind: 'network' }> {
  const raw = (err as { code?: unknown } | undefined)?.code;
  const code = typeof raw === 'string' ? raw : 'ERR_UNKNOWN';
  return { kind: 'network', code, retryable: classifyHttpFailure({ errorCode: code }) === 'retry', url, cause: err };
}

function aborted(params: AttemptParams, bytesKept = params.state.offset) {
  return abortError(params.signal!, { path: params.path, partialPath: params.partialPath, bytesKept });
}

function asDiskError(err: NodeJS.ErrnoException, path: string): DiskError {
  return new DiskError(`cannot write ${path} (${err.code ?? err.message})`, {
    cause: err,
    hint: 'check the filesystem under the root; partial files are kept and resumed',
    context: { path, code: err.code },
  });
}

function isEncoded(value: string | string[] | undefined): boolean {
  const v = (Array.isArray(value) ? value.join(',') : (value ?? '')).trim().toLowerCase();
  return v !== '' && v !== 'identity';
}

/** `bytes a-b/total` (total may be `*`). */
export function parseContentRange(value: string | string[] | undefined): { start: number; end: number; total?: number } | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  const m = v?.trim().match(/^bytes\s+(\d+)-(\d+)\/(\d+|\*)$/i);
  if (!m) return undefined;
  return { start: Number(m[1]), end: Number(m[2]), total: m[3] === '*' ? undefined : Number(m[3]) };
}

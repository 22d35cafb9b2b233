// One ranged request for the rest of a segment: the answer checked (a 200 or a compressed answer
// means Range is not honoured), its body gathered into batches, each written at its offset under
// the lease check, then the resume record and the hash told what landed.
import { HfhpcError, IntegrityError, classifyHttpFailure } from '@hfhpc/core';
import type { AttemptOutcome } from './attempt.js';
import { parseContentRange } from './attempt.js';
import { openResponse, type OpenedResponse } from './open-response.js';
import { RangeRefused, fail, serialWrite, writable, type Pass, type Ranged } from './ranged-state.js';
import type { Segment } from './segment-plan.js';
import { watchStall, type StallWatch } from './stall-watch.js';
import { writeAll } from './write-all.js';

const MiB = 1024 * 1024;
/** Bytes gathered per positioned write of one connection. */
const WRITE_BATCH = MiB;
const ERROR_BODY_LIMIT = 64 * 1024;

/** How the body of one ranged answer ended. */
interface Received {
  sourceError: unknown;
  overflow: boolean;
  watch: StallWatch;
}

/** One ranged request for the rest of `segment`, its body written at its offsets. */
export async function segmentAttempt(r: Ranged, pass: Pass, segment: Segment, url: string, resolver: boolean): Promise<AttemptOutcome> {
  const from = segment.start + segment.done;
  const to = segment.end - 1;
  const answer = await openSegment(r, pass, url, resolver, from, to);
  if ('outcome' in answer) return answer.outcome;
  const { opened } = answer;
  const { sourceError, overflow, watch } = await receiveSegment(r, pass, segment, opened, from);
  if (overflow) {
    opened.stream.destroy();
    return { kind: 'mismatch', reason: `more than the asked bytes ${from}-${to}`, url: opened.url };
  }
  const { source } = opened;
  if (sourceError !== undefined) {
    if (watch.stalled) return { kind: 'network', code: 'ETIMEDOUT', retryable: true, url: opened.url, source, cause: `no bytes for ${r.settings.timeouts.stallMs} ms` };
    return { ...networkOutcome(sourceError, opened.url), source };
  }
  if (segment.start + segment.done < segment.end) return { kind: 'network', code: 'ESHORTBODY', retryable: true, url: opened.url, source };
  return { kind: 'complete', url: opened.url, source };
}

/** Ask for bytes `from`-`to`; a `206` with exactly that Content-Range is an answer to read, anything else an outcome. */
async function openSegment(r: Ranged, pass: Pass, url: string, resolver: boolean, from: number, to: number): Promise<{ opened: OpenedResponse } | { outcome: AttemptOutcome }> {
  const { settings, params } = r;
  let opened: OpenedResponse;
  try {
    opened = await openResponse({
      url,
      hubOrigin: settings.hubOrigin,
      token: params.token,
      rangeStart: from,
      rangeEnd: to,
      got: settings.got,
      timeouts: settings.timeouts,
      gate: settings.gate,
      signal: pass.stop.signal,
      checkHubIdentity: (stated) => checkIdentity(r, stated),
    });
  } catch (err) {
    if (resolver) pass.urls.resolved(undefined);
    if (pass.stop.signal.aborted) throw pass.error ?? err;
    if (err instanceof HfhpcError) throw err;
    return { outcome: networkOutcome(err, url) };
  }
  if (resolver) pass.urls.resolved(opened.source === 'cdn' ? opened.url : undefined);
  const { stream, response } = opened;
  const status = response.statusCode;
  if (status !== 200 && status !== 206) return { outcome: await readErrorBody(opened) };
  if (status === 200 || isEncoded(response.headers['content-encoding'])) {
    stream.destroy();
    throw new RangeRefused();
  }
  const range = parseContentRange(response.headers['content-range']);
  if (!range || range.start !== from || range.end !== to || (range.total !== undefined && range.total !== r.size)) {
    stream.destroy();
    return { outcome: { kind: 'mismatch', reason: `Content-Range ${String(response.headers['content-range'])} for bytes=${from}-${to} of ${r.size}`, url: opened.url } };
  }
  return { opened };
}

/** Read the body into batches written at the segment's offsets; every byte received is kept (a retry continues after it). */
async function receiveSegment(r: Ranged, pass: Pass, segment: Segment, opened: OpenedResponse, from: number): Promise<Received> {
  const { stream } = opened;
  let received = from;
  const watch = watchStall({ stallMs: r.settings.timeouts.stallMs, progress: () => received, onStall: () => stream.destroy(), now: r.settings.now });
  const onStop = () => stream.destroy();
  pass.stop.signal.addEventListener('abort', onStop, { once: true });
  const writer = new SegmentWriter(r, pass, segment);
  let sourceError: unknown;
  let overflow = false;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const room = segment.end - (segment.start + segment.done) - writer.gathered;
      if (chunk.length > room) {
        if (room > 0) writer.batch.push(chunk.subarray(0, room));
        writer.gathered += Math.max(0, room);
        overflow = true;
        break;
      }
      writer.batch.push(chunk);
      writer.gathered += chunk.length;
      received += chunk.length;
      if (writer.gathered >= WRITE_BATCH) await writer.flush();
    }
  } catch (err) {
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- rethrown as caught (a connection's or the hash's error)
    if (writer.writeError !== undefined) throw writer.writeError;
    sourceError = err;
  } finally {
    watch.stop();
    pass.stop.signal.removeEventListener('abort', onStop);
  }
  // eslint-disable-next-line @typescript-eslint/only-throw-error -- rethrown as caught (a connection's or the hash's error)
  if (pass.error !== undefined) throw pass.error;
  await writer.flush();
  return { sourceError, overflow, watch };
}

/** The bytes of one answer gathered since the last write, and the write that failed if one did. */
class SegmentWriter {
  batch: Buffer[] = [];
  gathered = 0;
  writeError: unknown;

  constructor(
    private readonly r: Ranged,
    private readonly pass: Pass,
    private readonly segment: Segment,
  ) {}

  async flush(): Promise<void> {
    if (this.gathered === 0) return;
    const { r, pass, segment } = this;
    const buffers = this.batch;
    const n = this.gathered;
    this.batch = [];
    this.gathered = 0;
    try {
      await serialWrite(pass, async () => {
        // The fence reaches every connection's bytes: no batch once the lease may be gone.
        await writable(r);
        // eslint-disable-next-line @typescript-eslint/only-throw-error -- rethrown as caught (a connection's or the hash's error)
        if (pass.error !== undefined) throw pass.error;
        await writeAll(async (bufs, pos) => (await pass.handle.writev(bufs, pos)).bytesWritten, buffers, segment.start + segment.done);
      });
    } catch (err) {
      this.writeError = err;
      throw err;
    }
    pass.plan.landed(segment, n);
    r.fetched += n;
    // After the bytes it names landed; the record is read by whoever resumes, so it is written under the lease too.
    pass.record.save(() => pass.plan.snapshot(), () => writable(r)).catch((err: unknown) => fail(pass, err));
    pass.hasher.notify();
    pass.pulse();
  }
}

function checkIdentity(r: Ranged, stated: { hubEtag?: string; hubSize?: number }): void {
  const { hubEtag, hubSize } = stated;
  const want = r.blob.want;
  const etagMismatch = hubEtag !== undefined && hubEtag.length === want.length && /^[0-9a-f]+$/.test(hubEtag) && hubEtag !== want;
  const sizeMismatch = hubSize !== undefined && hubSize !== r.size;
  if (!etagMismatch && !sizeMismatch) return;
  const path = r.params.path;
  throw new IntegrityError(`the Hub describes ${path} as ${hubEtag ?? want} (${hubSize ?? r.size} bytes), the plan expects ${want} (${r.size} bytes)`, {
    hint: 'the plan does not match the Hub; run `hfhpc plan` again',
    context: { path, hubEtag, hubSize, want, size: r.size },
  });
}

async function readErrorBody(opened: OpenedResponse): Promise<AttemptOutcome> {
  const { stream, response, url, source } = opened;
  const chunks: Buffer[] = [];
  let n = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      n += chunk.length;
      if (n > ERROR_BODY_LIMIT) break;
      chunks.push(chunk);
    }
  } catch {
    // The body only feeds the error message.
  }
  return { kind: 'http', statusCode: response.statusCode, headers: response.headers, body: Buffer.concat(chunks), url, source };
}

function networkOutcome(err: unknown, url: string): Extract<AttemptOutcome, { kind: 'network' }> {
  const raw = (err as { code?: unknown } | undefined)?.code;
  const code = typeof raw === 'string' ? raw : 'ERR_UNKNOWN';
  return { kind: 'network', code, retryable: classifyHttpFailure({ errorCode: code }) === 'retry', url, cause: err };
}

function isEncoded(value: string | string[] | undefined): boolean {
  const v = (Array.isArray(value) ? value.join(',') : (value ?? '')).trim().toLowerCase();
  return v !== '' && v !== 'identity';
}

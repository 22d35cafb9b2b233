// A large blob over several ranged connections at once, into this claim's own partial file:
// the bytes after the resumed prefix are cut into segments (segment-plan.ts), each connection
// Range-requests the next unclaimed one from the CDN URL they share and writes it at its offset,
// checking the lease before each write batch like the sink does; the hash reads the contiguous
// prefix back in order (prefix-hasher.ts); the connection count adapts (adaptive-connections.ts).
// A resume record beside the partial (resume-record.ts) makes a resume after a kill exact.
// Each connection's retries are decided by `nextStep`, like a single download's.
import { HfhpcError, IntegrityError, classifyHttpFailure } from '@hfhpc/core';
import type { FileHandle } from 'node:fs/promises';
import { abortError } from './abort-error.js';
import { adapt, initialAdapt, type AdaptState } from './adaptive-connections.js';
import type { AttemptOutcome } from './attempt.js';
import { parseContentRange } from './attempt.js';
import type { BlobHasher } from './blob-hash.js';
import { initialRetryState, nextStep, type BlobRef, type RetryState } from './next-step.js';
import { openResponse, type OpenedResponse } from './open-response.js';
import { openOwnPartial } from './own-partial.js';
import { PrefixHasher } from './prefix-hasher.js';
import { publishBlob, removeIfPresent } from './publish-blob.js';
import { ResumeRecord, isResumeRecord, readResumeRecord, resumeRecordPath } from './resume-record.js';
import { SegmentPlan, type KnownSegment, type Segment } from './segment-plan.js';
import { watchStall } from './stall-watch.js';
import type { StreamHash } from './stream-hash.js';
import type { TransferSettings } from './transfer.js';
import type { DownloadBlobParams, DownloadBlobResult, DownloadLease, RangeOptions } from './types.js';
import { writeAll } from './write-all.js';

const MiB = 1024 * 1024;

export const DEFAULT_RANGES: Readonly<RangeOptions> = {
  connections: 8,
  minBytes: 64 * MiB,
  segmentBytes: 32 * MiB,
  windowMs: 500,
  minGain: 0.1,
};

/** Bytes gathered per positioned write of one connection. */
const WRITE_BATCH = MiB;
const ERROR_BODY_LIMIT = 64 * 1024;

/** The server answered a ranged request with the whole blob (or compressed): fetch it over one connection. */
class RangeRefused extends Error {}

/** Whether `downloadBlob` takes the ranged path for this blob. */
export function usesRanges(size: number, ranges: RangeOptions): boolean {
  return ranges.connections > 1 && size >= ranges.minBytes && size > ranges.segmentBytes;
}

/** The CDN URL the connections share: one resolve at a time, and the others wait for its answer. */
class SharedUrl {
  cdn?: string;
  resolves = 0;
  private resolving?: Promise<void>;
  private done?: () => void;

  constructor(private readonly resolveUrl: string) {}

  async acquire(stopped: Promise<never>): Promise<{ url: string; resolver: boolean }> {
    for (;;) {
      if (this.cdn) return { url: this.cdn, resolver: false };
      if (!this.resolving) {
        this.resolving = new Promise((resolve) => (this.done = resolve));
        this.resolves++;
        return { url: this.resolveUrl, resolver: true };
      }
      await Promise.race([this.resolving, stopped]);
    }
  }

  /** The resolver's request answered (`url`: where the CDN's answer came from) or failed (undefined). */
  resolved(url: string | undefined): void {
    if (url) this.cdn = url;
    this.resolving = undefined;
    this.done?.();
  }

  invalidate(url: string): void {
    if (this.cdn === url) this.cdn = undefined;
  }
}

/** What every connection of one pass over the blob shares. */
interface Pass {
  readonly handle: FileHandle;
  readonly plan: SegmentPlan;
  readonly hasher: PrefixHasher;
  readonly urls: SharedUrl;
  readonly record: ResumeRecord;
  readonly stop: AbortController;
  /** Rejects once the pass stops (never resolves): raced against waits. */
  readonly stopped: Promise<never>;
  error?: unknown;
  discard: boolean;
  running: number;
  adapt: AdaptState;
  /** Resolves the current wait for a change (a landed batch, a hashed batch, a stop). */
  pulse: () => void;
  changed: Promise<void>;
}

interface Ranged {
  readonly params: DownloadBlobParams;
  readonly settings: TransferSettings;
  readonly options: RangeOptions;
  readonly blob: BlobRef;
  readonly size: number;
  fetched: number;
  attempts: number;
  confirming?: Promise<void>;
}

/**
 * Download `params` over up to `options.connections` ranged connections; `sequential` is the
 * one-connection transfer, used when the server does not honour Range.
 */
export async function rangedTransfer(
  params: DownloadBlobParams,
  settings: TransferSettings,
  hasher: BlobHasher,
  options: RangeOptions,
  reportOffset: (n: number) => void,
  sequential: (params: DownloadBlobParams) => Promise<DownloadBlobResult>,
): Promise<DownloadBlobResult> {
  const { fs, now } = settings;
  const { partialPath, path, repo, log } = params;
  const size = params.expected.size;
  const r: Ranged = { params, settings, options, size, fetched: 0, attempts: 0, blob: { repo, path, revision: params.revision, hubUrl: settings.hubUrl, size, want: hasher.want } };
  await writable(r);
  const opened = await openRanged(r);
  const { handle } = opened;
  let known = opened.known;
  let hash = hasher.start();
  const resumedFrom = known.reduce((n, k) => n + k.done, 0);
  let restarted = false;
  let closed = false;
  let pass: Pass | undefined;
  let reported = -1;
  const report = () => {
    const n = pass ? pass.plan.landedBytes() : 0;
    reportOffset(n);
    if (n !== reported) params.onProgress?.((reported = n));
  };
  const ticker = setInterval(report, params.progressIntervalMs ?? 1000);
  ticker.unref();
  let record: ResumeRecord | undefined;
  const closeAll = async () => {
    if (closed) return;
    closed = true;
    await record?.close();
    await handle.close().catch(() => undefined);
  };
  try {
    if (resumedFrom > 0) log?.info(`resuming ${path} at byte ${resumedFrom} of ${size} (ranged: ${resumedFrom} bytes kept)`, { repo, path, offset: resumedFrom });
    record = await ResumeRecord.create(fs, partialPath, size);
    let fileRetry = initialRetryState(resumedFrom, now());
    for (;;) {
      pass = newPass(r, handle, hash, known, record);
      // Before the first write out of order, the record says what is on disk.
      await record.save(() => pass!.plan.snapshot(), () => writable(r));
      try {
        await runPass(r, pass);
      } catch (err) {
        if (!(err instanceof RangeRefused)) {
          if (pass.discard) {
            await closeAll();
            await removeIfPresent(fs, partialPath);
            await removeIfPresent(fs, record.path);
          }
          throw err;
        }
        // Keep only the contiguous prefix (the rest may have holes), then one connection.
        log?.warn(`${path}: the server does not honour Range; fetching over one connection`, { repo, path });
        await writable(r);
        await handle.truncate(pass.plan.contiguousEnd());
        const fetchedHere = r.fetched;
        await closeAll();
        await removeIfPresent(fs, record.path);
        const rest = await sequential({ ...params, resumeFrom: [] });
        return { ...rest, bytesFetched: rest.bytesFetched + fetchedHere, attempts: rest.attempts + r.attempts };
      }
      const got = await hash.digest();
      if (got === hasher.want) break;
      const reason = `${hasher.kind === 'sha256' ? 'sha256' : 'git sha1'} ${got}, expected ${hasher.want}`;
      const decision = nextStep({ kind: 'corrupt', reason }, fileRetry, { policy: settings.policy, now: now(), offset: size, random: settings.random, blob: r.blob });
      fileRetry = decision.state;
      if (decision.step.kind === 'give-up') {
        await closeAll();
        await removeIfPresent(fs, partialPath);
        await removeIfPresent(fs, record.path);
        throw decision.step.error;
      }
      log?.warn(`${path}: ${reason}; downloading again from 0`, { repo, path });
      hash.dispose();
      known = [];
      await record.save(() => [], () => writable(r));
      await handle.truncate(0);
      hash = hasher.start();
      restarted = true;
    }
    // Published under the fence check, as a single download is.
    const landed = pass.plan.landedBytes();
    await closeAll();
    await writable(r);
    await params.lease?.beforePublish();
    await publishBlob({ partialPath, finalPath: params.finalPath, fs });
    await removeIfPresent(fs, record.path);
    reportOffset(landed);
    if (landed !== reported) params.onProgress?.((reported = landed));
    const digest = hasher.kind === 'sha256' ? { sha256: hasher.want } : { gitSha1: hasher.want };
    return { bytesFetched: r.fetched, resumedFrom: restarted ? 0 : resumedFrom, attempts: r.attempts, skipped: false, ...digest };
  } finally {
    clearInterval(ticker);
    hash.dispose();
    await closeAll();
    // The bytes on disk once more (an interrupted task flushes them as its progress).
    if (pass) report();
  }
}

/**
 * This claim's own partial, holding the earlier claims' bytes that are known good: a partial
 * with a resume record keeps the segments it states, one without keeps its size as a prefix.
 * Every record read is removed, like the partials (a stale writer's record is then an orphan
 * nobody reads).
 */
async function openRanged(r: Ranged): Promise<{ handle: FileHandle; known: KnownSegment[] }> {
  const { fs } = r.settings;
  const { partialPath, log, path } = r.params;
  const all = r.params.resumeFrom ?? [];
  const candidates = all.filter((p) => !isResumeRecord(p));
  const stated = new Map<string, KnownSegment[] | undefined>();
  for (const c of [...candidates, partialPath]) stated.set(c, await readResumeRecord(fs, c, r.size));
  const { handle, copiedFrom } = await openOwnPartial({ fs, partialPath, resumeFrom: candidates, size: r.size });
  let known: KnownSegment[] = [];
  if (copiedFrom) {
    // A copy of our own name was moved aside first: its record is still under our name.
    const asideOfOurs = copiedFrom.startsWith(partialPath.replace(/\.incomplete$/, '') + '.aside-');
    const segments = asideOfOurs ? stated.get(partialPath) : stated.get(copiedFrom);
    const onDisk = (await handle.stat()).size;
    if (segments === undefined) {
      if (onDisk > 0) known = [{ start: 0, end: onDisk, done: onDisk }];
    } else {
      // Only what landed within the copied bytes counts.
      known = segments.map((k) => ({ ...k, done: Math.max(0, Math.min(k.done, onDisk - k.start)) }));
      if (known.every((k) => k.done === 0)) await handle.truncate(0);
    }
    log?.debug(`${path}: copied ${copiedFrom} into ${partialPath}`, { path });
  }
  for (const p of [...all.filter(isResumeRecord), ...candidates.map(resumeRecordPath), resumeRecordPath(partialPath)]) await removeIfPresent(fs, p);
  return { handle, known };
}

function newPass(r: Ranged, handle: FileHandle, hash: StreamHash, known: KnownSegment[], record: ResumeRecord): Pass {
  const plan = new SegmentPlan(r.size, r.options.segmentBytes, known);
  const stop = new AbortController();
  const stopped = new Promise<never>((_, reject) => stop.signal.addEventListener('abort', () => reject(stop.signal.reason as Error), { once: true }));
  stopped.catch(() => undefined);
  const pass: Pass = {
    record,
    handle,
    plan,
    urls: new SharedUrl(r.params.url),
    stop,
    stopped,
    discard: false,
    running: 0,
    adapt: initialAdapt(r.options.connections),
    pulse: () => undefined,
    changed: Promise.resolve(),
    hasher: new PrefixHasher({
      onError: (err) => fail(pass, err),
      handle,
      hash,
      from: 0,
      available: () => plan.contiguousEnd(),
      onAdvance: () => pass.pulse(),
    }),
  };
  const arm = () => {
    pass.changed = new Promise((resolve) => {
      pass.pulse = () => {
        arm();
        resolve();
      };
    });
  };
  arm();
  return pass;
}

/** Fetch every segment of the pass and hash the blob to its end, or throw the first failure. */
async function runPass(r: Ranged, pass: Pass): Promise<void> {
  const { signal } = r.params;
  const onAbort = () => fail(pass, signal!.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  let last = pass.plan.landedBytes();
  const tick = setInterval(() => {
    const landed = pass.plan.landedBytes();
    const rate = ((landed - last) * 1000) / r.options.windowMs;
    last = landed;
    const before = pass.adapt.target;
    pass.adapt = adapt(pass.adapt, rate, { cap: r.options.connections, minGain: r.options.minGain });
    if (pass.adapt.target !== before) r.params.log?.debug(`${r.params.path}: ${pass.adapt.target} connections`, { path: r.params.path });
    spawn(r, pass);
  }, r.options.windowMs);
  tick.unref();
  try {
    if (signal?.aborted) throw signal.reason;
    const finished = new Promise<void>((resolve) => {
      const check = () => {
        if (pass.running === 0 && (pass.error !== undefined || pass.plan.complete())) resolve();
        else void pass.changed.then(check);
      };
      spawn(r, pass);
      check();
    });
    await finished;
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- rethrown as caught (a connection's or the hash's error)
    if (pass.error !== undefined) throw pass.error;
    await pass.hasher.drain();
  } catch (err) {
    if (signal?.aborted && !(err instanceof HfhpcError)) {
      throw abortError(signal, { path: r.params.path, partialPath: r.params.partialPath, bytesKept: pass.hasher.hashed });
    }
    throw err;
  } finally {
    clearInterval(tick);
    signal?.removeEventListener('abort', onAbort);
    if (!pass.stop.signal.aborted) pass.stop.abort(new Error('pass over'));
  }
}

function fail(pass: Pass, err: unknown): void {
  if (pass.error !== undefined) return;
  pass.error = err;
  pass.stop.abort(err);
  pass.pulse();
}

/** Start connections up to the adaptive target (never more than segments left to claim). */
function spawn(r: Ranged, pass: Pass): void {
  while (pass.error === undefined && pass.running < pass.adapt.target && pass.plan.hasUnclaimed()) {
    pass.running++;
    void connection(r, pass).then(
      () => {
        pass.running--;
        pass.pulse();
      },
      (err: unknown) => {
        pass.running--;
        fail(pass, err);
        pass.pulse();
      },
    );
  }
}

/** One connection: claim the next segment within the window ahead of the hash, fetch it, repeat. */
async function connection(r: Ranged, pass: Pass): Promise<void> {
  const ahead = r.options.connections * r.options.segmentBytes * 2;
  for (;;) {
    if (pass.error !== undefined || pass.running > pass.adapt.target) return;
    const segment = pass.plan.claim(pass.hasher.hashed + ahead);
    if (!segment) {
      if (!pass.plan.hasUnclaimed()) return;
      // Too far ahead of the hash: wait for it (it advances: every earlier segment is taken).
      await Promise.race([pass.changed, pass.stopped]);
      continue;
    }
    try {
      await fetchSegment(r, pass, segment);
    } finally {
      pass.plan.release(segment);
    }
  }
}

/** Fetch one segment to its end, retrying from where it got as `nextStep` decides. */
async function fetchSegment(r: Ranged, pass: Pass, segment: Segment): Promise<void> {
  const { settings } = r;
  let retry: RetryState = initialRetryState(segment.start + segment.done, settings.now());
  while (segment.start + segment.done < segment.end) {
    const { url, resolver } = await pass.urls.acquire(pass.stopped);
    const outcome = await segmentAttempt(r, pass, segment, url, resolver);
    r.attempts++;
    if (segment.start + segment.done === segment.end) return;
    const kept = resolver ? undefined : url;
    const decision = nextStep(outcome, { ...retry, cdnUrl: kept }, { policy: settings.policy, now: settings.now(), offset: segment.start + segment.done, random: settings.random, blob: r.blob });
    retry = decision.state;
    if (kept && decision.state.cdnUrl === undefined) pass.urls.invalidate(kept);
    const step = decision.step;
    if (step.kind === 'give-up') {
      if (step.pauseAll) await settings.gate.pause(step.pauseAll.untilMs, step.pauseAll.reason);
      pass.discard = step.discardPartial;
      throw step.error;
    }
    if (step.kind === 'restart') {
      // Bytes that do not fit this range: ask again for a fresh URL (the hash has the last word).
      if (kept) pass.urls.invalidate(kept);
      r.params.log?.warn(`${r.params.path}: ${step.reason}; asking for bytes ${segment.start + segment.done}- again`, { path: r.params.path });
      continue;
    }
    if (step.kind === 'retry') {
      if (step.pauseAll) await settings.gate.pause(step.pauseAll.untilMs, step.pauseAll.reason);
      r.params.log?.warn(`${r.params.path}: ${describe(outcome)} at byte ${segment.start + segment.done}; retry ${step.failures} in ${step.waitMs} ms`, { path: r.params.path });
      if (step.waitMs > 0) await Promise.race([settings.sleep(step.waitMs, pass.stop.signal), pass.stopped]);
    }
  }
}

/** One ranged request for the rest of `segment`, its body written at its offsets. */
async function segmentAttempt(r: Ranged, pass: Pass, segment: Segment, url: string, resolver: boolean): Promise<AttemptOutcome> {
  const { settings, params } = r;
  const from = segment.start + segment.done;
  const to = segment.end - 1;
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
    return networkOutcome(err, url);
  }
  if (resolver) pass.urls.resolved(opened.source === 'cdn' ? opened.url : undefined);
  const { stream, response, source } = opened;
  const status = response.statusCode;
  if (status !== 200 && status !== 206) return readErrorBody(opened);
  if (status === 200 || isEncoded(response.headers['content-encoding'])) {
    stream.destroy();
    throw new RangeRefused();
  }
  const range = parseContentRange(response.headers['content-range']);
  if (!range || range.start !== from || range.end !== to || (range.total !== undefined && range.total !== r.size)) {
    stream.destroy();
    return { kind: 'mismatch', reason: `Content-Range ${String(response.headers['content-range'])} for bytes=${from}-${to} of ${r.size}`, url: opened.url };
  }

  let received = from;
  const watch = watchStall({ stallMs: settings.timeouts.stallMs, progress: () => received, onStall: () => stream.destroy(), now: settings.now });
  const onStop = () => stream.destroy();
  pass.stop.signal.addEventListener('abort', onStop, { once: true });
  let batch: Buffer[] = [];
  let gathered = 0;
  let writeError: unknown;
  const flush = async () => {
    if (gathered === 0) return;
    const buffers = batch;
    const n = gathered;
    batch = [];
    gathered = 0;
    try {
      // The fence reaches every connection's bytes: no batch once the lease may be gone.
      await writable(r);
      // eslint-disable-next-line @typescript-eslint/only-throw-error -- rethrown as caught (a connection's or the hash's error)
      if (pass.error !== undefined) throw pass.error;
      await writeAll(async (bufs, pos) => (await pass.handle.writev(bufs, pos)).bytesWritten, buffers, segment.start + segment.done);
    } catch (err) {
      writeError = err;
      throw err;
    }
    pass.plan.landed(segment, n);
    r.fetched += n;
    // After the bytes it names landed; the record is read by whoever resumes, so it is written under the lease too.
    pass.record.save(() => pass.plan.snapshot(), () => writable(r)).catch((err: unknown) => fail(pass, err));
    pass.hasher.notify();
    pass.pulse();
  };
  let sourceError: unknown;
  let overflow = false;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const room = segment.end - (segment.start + segment.done) - gathered;
      if (chunk.length > room) {
        if (room > 0) batch.push(chunk.subarray(0, room));
        gathered += Math.max(0, room);
        overflow = true;
        break;
      }
      batch.push(chunk);
      gathered += chunk.length;
      received += chunk.length;
      if (gathered >= WRITE_BATCH) await flush();
    }
  } catch (err) {
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- rethrown as caught (a connection's or the hash's error)
    if (writeError !== undefined) throw writeError;
    sourceError = err;
  } finally {
    watch.stop();
    pass.stop.signal.removeEventListener('abort', onStop);
  }
  // eslint-disable-next-line @typescript-eslint/only-throw-error -- rethrown as caught (a connection's or the hash's error)
  if (pass.error !== undefined) throw pass.error;
  // Every byte received is kept: the retry continues after it.
  await flush();
  if (overflow) {
    stream.destroy();
    return { kind: 'mismatch', reason: `more than the asked bytes ${from}-${to}`, url: opened.url };
  }
  if (sourceError !== undefined) {
    if (watch.stalled) return { kind: 'network', code: 'ETIMEDOUT', retryable: true, url: opened.url, source, cause: `no bytes for ${settings.timeouts.stallMs} ms` };
    return { ...networkOutcome(sourceError, opened.url), source };
  }
  if (segment.start + segment.done < segment.end) return { kind: 'network', code: 'ESHORTBODY', retryable: true, url: opened.url, source };
  return { kind: 'complete', url: opened.url, source };
}

/** Resolves at once while the lease is known to be held; else once it is confirmed (one confirm shared by every connection). */
function writable(r: Ranged): Promise<void> | void {
  const lease: DownloadLease | undefined = r.params.lease;
  if (!lease || r.settings.now() < lease.writableUntil()) return;
  r.confirming ??= lease.confirm().finally(() => (r.confirming = undefined));
  return r.confirming;
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

function describe(outcome: AttemptOutcome): string {
  if (outcome.kind === 'http') return `${outcome.statusCode} from the ${outcome.source}`;
  if (outcome.kind === 'network') return `network error ${outcome.code}`;
  return outcome.kind;
}

// A large blob over several ranged connections at once, into this claim's own partial file:
// the bytes after the resumed prefix are cut into segments (segment-plan.ts), each connection
// Range-requests the next unclaimed one from the CDN URL they share (shared-url.ts) and writes it
// at its offset, checking the lease before each write batch like the sink does
// (segment-attempt.ts); the hash reads the contiguous prefix back in order (prefix-hasher.ts);
// the connection count adapts (adaptive-connections.ts); one pass over the blob is ranged-pass.ts.
// A resume record beside the partial (resume-record.ts) makes a resume after a kill exact.
// Each connection's retries are decided by `nextStep`, like a single download's; this file runs
// passes until the hash matches, falls back to one connection when Range is ignored, publishes.
import type { FileHandle } from 'node:fs/promises';
import type { BlobHasher } from './blob-hash.js';
import { initialRetryState, nextStep, type RetryState } from './next-step.js';
import { publishBlob, removeIfPresent } from './publish-blob.js';
import { newPass, runPass } from './ranged-pass.js';
import { openRangedPartial } from './ranged-partial.js';
import { RangeRefused, writable, type Pass, type Ranged } from './ranged-state.js';
import { ResumeRecord } from './resume-record.js';
import type { KnownSegment } from './segment-plan.js';
import type { StreamHash } from './stream-hash.js';
import type { TransferSettings } from './transfer.js';
import type { DownloadBlobParams, DownloadBlobResult, RangeOptions } from './types.js';

const MiB = 1024 * 1024;

export const DEFAULT_RANGES: Readonly<RangeOptions> = {
  connections: 8,
  minBytes: 64 * MiB,
  segmentBytes: 32 * MiB,
  windowMs: 500,
  minGain: 0.1,
};

/** Whether `downloadBlob` takes the ranged path for this blob. */
export function usesRanges(size: number, ranges: RangeOptions): boolean {
  return ranges.connections > 1 && size >= ranges.minBytes && size > ranges.segmentBytes;
}

type Sequential = (params: DownloadBlobParams) => Promise<DownloadBlobResult>;

/** One call of `rangedTransfer`: the open partial, the hash over it, the current pass. */
interface Run {
  readonly r: Ranged;
  readonly hasher: BlobHasher;
  readonly handle: FileHandle;
  readonly reportOffset: (n: number) => void;
  readonly resumedFrom: number;
  hash: StreamHash;
  known: KnownSegment[];
  record?: ResumeRecord;
  pass?: Pass;
  reported: number;
  closed: boolean;
  restarted: boolean;
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
  sequential: Sequential,
): Promise<DownloadBlobResult> {
  const { partialPath, path, repo, log } = params;
  const size = params.expected.size;
  const r: Ranged = { params, settings, options, size, fetched: 0, attempts: 0, blob: { repo, path, revision: params.revision, hubUrl: settings.hubUrl, size, want: hasher.want } };
  await writable(r);
  const { handle, known } = await openRangedPartial(r);
  const resumedFrom = known.reduce((n, k) => n + k.done, 0);
  const run: Run = { r, hasher, handle, reportOffset, resumedFrom, hash: hasher.start(), known, reported: -1, closed: false, restarted: false };
  const ticker = setInterval(() => report(run), params.progressIntervalMs ?? 1000);
  ticker.unref();
  try {
    if (resumedFrom > 0) log?.info(`resuming ${path} at byte ${resumedFrom} of ${size} (ranged: ${resumedFrom} bytes kept)`, { repo, path, offset: resumedFrom });
    const record = (run.record = await ResumeRecord.create(settings.fs, partialPath, size));
    const ended = await passesUntilVerified(run, record, sequential);
    if ('fallback' in ended) return ended.fallback;
    return await publishRanged(run, ended.pass, record);
  } finally {
    clearInterval(ticker);
    run.hash.dispose();
    await closeAll(run);
    // The bytes on disk once more (an interrupted task flushes them as its progress).
    if (run.pass) report(run);
  }
}

/** Passes over the blob until its hash matches (the last pass), or the result over one connection. */
async function passesUntilVerified(run: Run, record: ResumeRecord, sequential: Sequential): Promise<{ pass: Pass } | { fallback: DownloadBlobResult }> {
  const { r } = run;
  let fileRetry = initialRetryState(run.resumedFrom, r.settings.now());
  for (;;) {
    const pass = (run.pass = newPass(r, run.handle, run.hash, run.known, record));
    // Before the first write out of order, the record says what is on disk.
    await record.save(() => pass.plan.snapshot(), () => writable(r));
    try {
      await runPass(r, pass);
    } catch (err) {
      if (!(err instanceof RangeRefused)) {
        if (pass.discard) await discardPartial(run, record);
        throw err;
      }
      return { fallback: await overOneConnection(run, pass, record, sequential) };
    }
    const got = await run.hash.digest();
    if (got === run.hasher.want) return { pass };
    fileRetry = await startOver(run, record, got, fileRetry);
  }
}

/** Range is not honoured: keep only the contiguous prefix (the rest may have holes), then one connection. */
async function overOneConnection(run: Run, pass: Pass, record: ResumeRecord, sequential: Sequential): Promise<DownloadBlobResult> {
  const { r } = run;
  const { params } = r;
  params.log?.warn(`${params.path}: the server does not honour Range; fetching over one connection`, { repo: params.repo, path: params.path });
  await writable(r);
  await run.handle.truncate(pass.plan.contiguousEnd());
  const fetchedHere = r.fetched;
  await closeAll(run);
  await removeIfPresent(r.settings.fs, record.path);
  const rest = await sequential({ ...params, resumeFrom: [] });
  return { ...rest, bytesFetched: rest.bytesFetched + fetchedHere, attempts: rest.attempts + r.attempts };
}

/** The hash did not match: empty the partial and its record for another pass from 0, or give up as `nextStep` decides. */
async function startOver(run: Run, record: ResumeRecord, got: string, fileRetry: RetryState): Promise<RetryState> {
  const { r, hasher } = run;
  const { settings, params } = r;
  const reason = `${hasher.kind === 'sha256' ? 'sha256' : 'git sha1'} ${got}, expected ${hasher.want}`;
  const decision = nextStep({ kind: 'corrupt', reason }, fileRetry, { policy: settings.policy, now: settings.now(), offset: r.size, random: settings.random, blob: r.blob });
  if (decision.step.kind === 'give-up') {
    await discardPartial(run, record);
    throw decision.step.error;
  }
  params.log?.warn(`${params.path}: ${reason}; downloading again from 0`, { repo: params.repo, path: params.path });
  run.hash.dispose();
  run.known = [];
  await record.save(() => [], () => writable(r));
  await run.handle.truncate(0);
  run.hash = hasher.start();
  run.restarted = true;
  return decision.state;
}

/** Published under the fence check, as a single download is. */
async function publishRanged(run: Run, pass: Pass, record: ResumeRecord): Promise<DownloadBlobResult> {
  const { r, hasher } = run;
  const { params } = r;
  const { fs } = r.settings;
  const landed = pass.plan.landedBytes();
  await closeAll(run);
  await writable(r);
  await params.lease?.beforePublish();
  await publishBlob({ partialPath: params.partialPath, finalPath: params.finalPath, fs });
  await removeIfPresent(fs, record.path);
  run.reportOffset(landed);
  if (landed !== run.reported) params.onProgress?.((run.reported = landed));
  const digest = hasher.kind === 'sha256' ? { sha256: hasher.want } : { gitSha1: hasher.want };
  return { bytesFetched: r.fetched, resumedFrom: run.restarted ? 0 : run.resumedFrom, attempts: r.attempts, skipped: false, ...digest };
}

/** Close the partial and remove it with its record. */
async function discardPartial(run: Run, record: ResumeRecord): Promise<void> {
  await closeAll(run);
  await removeIfPresent(run.r.settings.fs, run.r.params.partialPath);
  await removeIfPresent(run.r.settings.fs, record.path);
}

function report(run: Run): void {
  const n = run.pass ? run.pass.plan.landedBytes() : 0;
  run.reportOffset(n);
  if (n !== run.reported) run.r.params.onProgress?.((run.reported = n));
}

async function closeAll(run: Run): Promise<void> {
  if (run.closed) return;
  run.closed = true;
  await run.record?.close();
  await run.handle.close().catch(() => undefined);
}

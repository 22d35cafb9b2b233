// One pass over a ranged blob: connections up to the adaptive target, each claiming the next
// unclaimed segment within the window ahead of the hash and fetching it (segment-attempt.ts),
// retrying as `nextStep` decides; the pass ends when every segment landed and the hash read them,
// or with the first failure.
import { HfhpcError } from '@hfhpc/core';
import type { FileHandle } from 'node:fs/promises';
import { abortError } from './abort-error.js';
import { adapt, initialAdapt } from './adaptive-connections.js';
import type { AttemptOutcome } from './attempt.js';
import { initialRetryState, nextStep, type RetryState } from './next-step.js';
import { PrefixHasher } from './prefix-hasher.js';
import { fail, type Pass, type Ranged } from './ranged-state.js';
import type { ResumeRecord } from './resume-record.js';
import { segmentAttempt } from './segment-attempt.js';
import { SegmentPlan, type KnownSegment, type Segment } from './segment-plan.js';
import { SharedUrl } from './shared-url.js';
import type { StreamHash } from './stream-hash.js';

export function newPass(r: Ranged, handle: FileHandle, hash: StreamHash, known: KnownSegment[], record: ResumeRecord): Pass {
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
    writeLane: Promise.resolve(),
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
export async function runPass(r: Ranged, pass: Pass): Promise<void> {
  const { signal } = r.params;
  const onAbort = () => fail(pass, signal!.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  const tick = adaptEveryWindow(r, pass);
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

/** Every window: the rate over it moves the connection target, and connections start up to it. */
function adaptEveryWindow(r: Ranged, pass: Pass): NodeJS.Timeout {
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
  return tick;
}

/** Start connections up to the adaptive target (never more than segments left to claim). */
function spawn(r: Ranged, pass: Pass): void {
  const { budget } = r.options;
  while (pass.error === undefined && pass.running < pass.adapt.target && pass.plan.hasUnclaimed()) {
    // The blob's first connection is the download's own; each further one needs a free one of the task's.
    const extra = pass.running > 0;
    if (extra && budget && !budget.tryTake()) return;
    pass.running++;
    const ended = () => {
      pass.running--;
      if (extra) budget?.give();
      pass.pulse();
    };
    void connection(r, pass).then(ended, (err: unknown) => {
      fail(pass, err);
      ended();
    });
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

function describe(outcome: AttemptOutcome): string {
  if (outcome.kind === 'http') return `${outcome.statusCode} from the ${outcome.source}`;
  if (outcome.kind === 'network') return `network error ${outcome.code}`;
  return outcome.kind;
}

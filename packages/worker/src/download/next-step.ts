// What the download loop does after an attempt, as one pure function: an outcome and the retry
// state in, the next step and the new state out. No I/O; the clock and the jitter come in as
// inputs, so every rule is pinned by a table test without HTTP (as rclone tests its pacer).
import {
  IntegrityError,
  classifyHttpFailure,
  hubErrorFromNetworkFailure,
  hubErrorFromResponse,
  rateLimitWaitMs,
  retryDelay,
  type HfhpcError,
} from '@hfhpc/core';
import type { AttemptOutcome } from './attempt.js';
import type { RetryPolicy } from './types.js';

/** What the loop saw: an attempt's outcome, or the finished file failing its hash check. */
export type Outcome = AttemptOutcome | { kind: 'corrupt'; reason: string };

export interface RetryState {
  /** Attempts made (a resolve and its redirects count as one). */
  readonly attempts: number;
  /** Failed attempts since the bytes on disk last grew: the `maxAttempts` budget. */
  readonly failures: number;
  /** Restarts from 0 after a mismatch: the `maxIntegrityRetries` budget. */
  readonly integrityFailures: number;
  /** Most bytes on disk since the last restart; growing past it is progress. */
  readonly best: number;
  /** When the bytes on disk last grew: the `maxTotalMs` budget runs from here. */
  readonly lastProgressAt: number;
  /** The CDN URL the next attempt goes to directly (no resolve spent); undefined: resolve on the Hub. */
  readonly cdnUrl?: string;
  /** The last failure retried was an answer from the CDN, so an expired URL right after it backs off. */
  readonly lastRetriedCdnAnswer: boolean;
}

/** After a 429: no task of the array sends a request to the Hub before `untilMs` (the shared gate). */
export interface PauseAll {
  untilMs: number;
  reason: string;
}

export type NextStep =
  /** Every byte is on disk: check the hash. */
  | { kind: 'verify' }
  /**
   * Wait `waitMs`, then attempt again from the current offset. `fresh`: a CDN URL was dropped,
   * the next attempt resolves on the Hub for a new one. `pauseAll`: a 429, set on the shared gate first.
   */
  | { kind: 'retry'; waitMs: number; failures: number; fresh: boolean; pauseAll?: PauseAll }
  /** The bytes cannot be this blob: empty the partial and fetch from 0. */
  | { kind: 'restart'; reason: string; integrityFailures: number }
  /** Throw `error`; `discardPartial` after repeated corruption (else the partial is kept for a resume). */
  | { kind: 'give-up'; error: HfhpcError; discardPartial: boolean; pauseAll?: PauseAll };

/** The blob, for error messages. */
export interface BlobRef {
  repo: string;
  path: string;
  revision?: string;
  /** Hub base URL for links in messages. */
  hubUrl: string;
  size: number;
  /** The expected hash. */
  want: string;
}

export interface StepInputs {
  policy: Readonly<RetryPolicy>;
  /** Epoch ms when the outcome came in. */
  now: number;
  /** Bytes on disk after the attempt. */
  offset: number;
  /** Uniform in [0, 1): the backoff's jitter. */
  random: () => number;
  blob: BlobRef;
}

export interface Decision {
  step: NextStep;
  state: RetryState;
}

/** Before the first attempt: `offset` bytes resumed from disk count as the best so far. */
export function initialRetryState(offset: number, now: number): RetryState {
  return { attempts: 0, failures: 0, integrityFailures: 0, best: offset, lastProgressAt: now, lastRetriedCdnAnswer: false };
}

/**
 * The next step after `outcome`, given the state before it:
 * - complete → verify;
 * - a mismatch (bad Content-Range, too many bytes, wrong hash) → restart from 0, at most
 *   `maxIntegrityRetries` times, then give up with `IntegrityError` and discard the partial;
 * - 5xx/408/retryable network errors/stalls → back off (full jitter);
 * - 429 → the wait the server asked for (Retry-After, RateLimit), else back off, on every task;
 * - 401/403 from the CDN, or any 4xx from a CDN URL kept from before → resolve again (at once,
 *   backing off only right after another CDN answer);
 * - 401/403 from the Hub, 404, other 4xx, other network errors → give up at once;
 * - out of budget (`maxAttempts` failures or `maxTotalMs` without new bytes) → give up with
 *   the typed error of the last failure.
 * New bytes on disk reset the failure count and the clock.
 */
export function nextStep(outcome: Outcome, state: RetryState, inputs: StepInputs): Decision {
  if (outcome.kind === 'corrupt') return restartOrGiveUp(outcome.reason, state, inputs);
  const next = afterAttempt(outcome, state, inputs);
  if (outcome.kind === 'complete') return { step: { kind: 'verify' }, state: next };
  if (outcome.kind === 'mismatch') return restartOrGiveUp(outcome.reason, next, inputs);
  const failed = { ...next, failures: next.failures + 1 };
  if (outcome.kind === 'http') return afterHttpFailure(outcome, state, failed, inputs);
  const error = () =>
    hubErrorFromNetworkFailure({ errorCode: outcome.code, url: outcome.url, repo: inputs.blob.repo, path: inputs.blob.path, attempts: failed.attempts, cause: outcome.cause });
  if (!outcome.retryable) return giveUp(error(), failed);
  return retryOrGiveUp(outcome, state, failed, backoff(failed, inputs), inputs, error);
}

/** Counts the attempt, keeps or drops the CDN URL, and notes progress. */
function afterAttempt(outcome: AttemptOutcome, state: RetryState, inputs: StepInputs): RetryState {
  const progressed = inputs.offset > state.best;
  return {
    ...state,
    attempts: state.attempts + 1,
    cdnUrl: cdnUrlAfter(outcome, state.cdnUrl),
    ...(progressed ? { best: inputs.offset, failures: 0, lastProgressAt: inputs.now } : {}),
  };
}

/**
 * Later attempts go straight to the CDN URL the last one was sent to (no resolve spent on a
 * resume); a kept CDN URL that gives no answer at all, or bytes that do not fit, are given up
 * for a fresh resolve.
 */
function cdnUrlAfter(outcome: AttemptOutcome, kept: string | undefined): string | undefined {
  if (outcome.kind === 'mismatch') return undefined;
  if (outcome.source === 'cdn') return outcome.url;
  if (outcome.kind === 'network' && outcome.source === undefined) return undefined;
  return kept;
}

type HttpOutcome = Extract<AttemptOutcome, { kind: 'http' }>;

function afterHttpFailure(outcome: HttpOutcome, before: RetryState, failed: RetryState, inputs: StepInputs): Decision {
  const { statusCode, headers, source } = outcome;
  const { repo, path, revision, hubUrl } = inputs.blob;
  const error = () => hubErrorFromResponse({ statusCode, headers, body: outcome.body, url: outcome.url, repo, path, revision, hubUrl, attempts: failed.attempts, source });
  let cls = classifyHttpFailure({ statusCode, headers, source });
  // A CDN URL kept from an earlier attempt may have gone stale in any way: resolve again.
  if (cls === 'fatal' && source === 'cdn' && before.cdnUrl !== undefined) cls = 'expired-url';
  if (cls === 'fatal') return giveUp(error(), failed);
  if (cls === 'expired-url') {
    const resolveAgain = { ...failed, cdnUrl: undefined };
    const wait = failed.lastRetriedCdnAnswer ? backoff(resolveAgain, inputs) : 0;
    return retryOrGiveUp(outcome, before, resolveAgain, wait, inputs, error);
  }
  if (cls === 'rate-limited') {
    const asked = rateLimitWaitMs({ headers, now: inputs.now });
    const wait = backoff(failed, inputs, asked);
    const pauseAll = { untilMs: inputs.now + wait, reason: `429 from the ${source} for ${repo}` };
    return retryOrGiveUp(outcome, before, failed, wait, inputs, error, pauseAll);
  }
  return retryOrGiveUp(outcome, before, failed, backoff(failed, inputs), inputs, error);
}

/** Retry after `waitMs` unless that leaves the budget. `before`: the state before the attempt. */
function retryOrGiveUp(
  outcome: HttpOutcome | Extract<AttemptOutcome, { kind: 'network' }>,
  before: RetryState,
  failed: RetryState,
  waitMs: number,
  inputs: StepInputs,
  error: () => HfhpcError,
  pauseAll?: PauseAll,
): Decision {
  const { policy, now } = inputs;
  const exhausted = failed.failures >= policy.maxAttempts || now - failed.lastProgressAt + waitMs > policy.maxTotalMs;
  if (exhausted) return { step: { kind: 'give-up', error: error(), discardPartial: false, ...(pauseAll && { pauseAll }) }, state: failed };
  const droppedCdnUrl = (before.cdnUrl !== undefined || outcome.source === 'cdn') && failed.cdnUrl === undefined;
  return {
    step: { kind: 'retry', waitMs, failures: failed.failures, fresh: droppedCdnUrl, ...(pauseAll && { pauseAll }) },
    state: { ...failed, lastRetriedCdnAnswer: outcome.kind === 'http' && outcome.source === 'cdn' },
  };
}

function restartOrGiveUp(reason: string, state: RetryState, inputs: StepInputs): Decision {
  const integrityFailures = state.integrityFailures + 1;
  const { repo, path, size, want } = inputs.blob;
  if (integrityFailures > inputs.policy.maxIntegrityRetries) {
    const error = new IntegrityError(`${path} in dataset ${repo} failed verification ${integrityFailures} times: ${reason}`, {
      hint: 'the download keeps arriving corrupted; run again later, or report it if it persists',
      context: { repo, path, reason, size, want },
    });
    return { step: { kind: 'give-up', error, discardPartial: true }, state: { ...state, integrityFailures } };
  }
  return {
    step: { kind: 'restart', reason, integrityFailures },
    state: { ...state, integrityFailures, best: 0, failures: 0, lastProgressAt: inputs.now },
  };
}

function giveUp(error: HfhpcError, state: RetryState): Decision {
  return { step: { kind: 'give-up', error, discardPartial: false }, state };
}

/** Full-jitter backoff for the failure count so far; with `askedMs` (a 429's wait) that wait plus jitter. */
function backoff(state: RetryState, inputs: StepInputs, askedMs?: number): number {
  const { baseMs, capMs } = inputs.policy;
  return retryDelay({ attempt: state.failures, baseMs, capMs, random: inputs.random, ...(askedMs !== undefined && { retryAfterMs: askedMs }) });
}

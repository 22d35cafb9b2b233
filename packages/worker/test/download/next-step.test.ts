// The download loop's decisions, without HTTP: outcome + retry state in, step + state out.
// The engine tests (errors, faults, resume, integrity, fakehub) pin the same rules end to end.
import { describe, expect, it } from '@jest/globals';
import { AuthError, HubError, HubNotFoundError, IntegrityError } from '@hfhpc/core';
import type { AttemptOutcome } from '../../src/download/attempt.js';
import { initialRetryState, nextStep, type Outcome, type RetryState, type StepInputs } from '../../src/download/next-step.js';
import type { RetryPolicy } from '../../src/download/types.js';

const NOW = Date.parse('2026-12-02T10:00:00Z');
const POLICY: RetryPolicy = { maxAttempts: 4, maxTotalMs: 60_000, baseMs: 100, capMs: 1000, maxIntegrityRetries: 2 };
const BLOB = { repo: 'org/x', path: 'data/a.bin', revision: 'c0ffee', hubUrl: 'https://hub.test', size: 1000, want: 'ab'.repeat(32) };
const HUB_URL = 'https://hub.test/datasets/org/x/resolve/c0ffee/data/a.bin';
const CDN_URL = 'https://cdn.test/blobs/ab?X-Signature=s1';

type Headers = Record<string, string>;
const http = (statusCode: number, source: 'hub' | 'cdn', headers: Headers = {}): AttemptOutcome => ({
  kind: 'http',
  statusCode,
  headers,
  body: Buffer.from('{"error":"x"}'),
  url: source === 'cdn' ? CDN_URL : HUB_URL,
  source,
});
const network = (code: string, opts: { retryable?: boolean; source?: 'hub' | 'cdn' } = {}): AttemptOutcome => ({
  kind: 'network',
  code,
  retryable: opts.retryable ?? true,
  url: opts.source === 'cdn' ? CDN_URL : HUB_URL,
  ...(opts.source && { source: opts.source }),
});

/** Decide from a frozen state (a pure function must not change its input); jitter 0.5. */
function decide(outcome: Outcome, state: Partial<RetryState> = {}, inputs: Partial<StepInputs> = {}) {
  const before: RetryState = Object.freeze({ ...initialRetryState(0, NOW), ...state });
  return nextStep(outcome, before, { policy: POLICY, now: NOW, offset: 0, random: () => 0.5, blob: BLOB, ...inputs });
}

// Full jitter at 0.5: half of min(capMs, baseMs * 2^(failures-1)).
const BACKOFF = { 1: 50, 2: 100, 3: 200, 4: 400 } as const;

describe('nextStep: transient failures back off within the budget', () => {
  const transient: Array<[string, AttemptOutcome]> = [
    ['503 from the Hub', http(503, 'hub')],
    ['500 from the CDN', http(500, 'cdn')],
    ['502 from the Hub', http(502, 'hub')],
    ['408 from the Hub', http(408, 'hub')],
    ['connection reset', network('ECONNRESET')],
    ['a stall mid-body', network('ETIMEDOUT', { source: 'cdn' })],
    ['a body cut short', network('ESHORTBODY', { source: 'cdn' })],
    ['a compressed ranged answer', network('ERANGEENCODED', { source: 'cdn' })],
  ];
  it.each(transient)('%s: retry after the backoff for the failure count', (_name, outcome) => {
    expect(decide(outcome).step).toEqual({ kind: 'retry', waitMs: BACKOFF[1], failures: 1, fresh: false });
    const third = decide(outcome, { failures: 2, attempts: 2 });
    expect(third.step).toEqual({ kind: 'retry', waitMs: BACKOFF[3], failures: 3, fresh: false });
    expect(third.state).toMatchObject({ attempts: 3, failures: 3, integrityFailures: 0 });
  });

  it('an answer or bytes from the CDN keep its URL for the next attempt (no resolve spent)', () => {
    expect(decide(network('ECONNRESET', { source: 'cdn' })).state.cdnUrl).toBe(CDN_URL);
    expect(decide(http(503, 'cdn')).state.cdnUrl).toBe(CDN_URL);
    expect(decide(http(503, 'hub')).state.cdnUrl).toBeUndefined();
  });

  it('a kept CDN URL that gives no answer at all is dropped: the retry resolves again', () => {
    const d = decide(network('ECONNREFUSED'), { cdnUrl: CDN_URL });
    expect(d.step).toEqual({ kind: 'retry', waitMs: BACKOFF[1], failures: 1, fresh: true });
    expect(d.state.cdnUrl).toBeUndefined();
  });

  it('new bytes on disk reset the failure count and the clock', () => {
    const d = decide(network('ECONNRESET', { source: 'cdn' }), { failures: 3, best: 100, lastProgressAt: NOW - 59_000 }, { offset: 400 });
    expect(d.step).toEqual({ kind: 'retry', waitMs: BACKOFF[1], failures: 1, fresh: false });
    expect(d.state).toMatchObject({ best: 400, failures: 1, lastProgressAt: NOW });
  });
});

describe('nextStep: out of budget gives up with the last error', () => {
  it.each([
    ['503 from the Hub', http(503, 'hub'), /Hub server error 503 for data\/a\.bin in dataset org\/x after 4 attempts/],
    ['502 from the CDN', http(502, 'cdn'), /CDN server error 502/],
    ['connection reset', network('ECONNRESET'), /network failure \(ECONNRESET\) downloading data\/a\.bin in dataset org\/x .* after 4 attempts/],
  ])('%s as the maxAttempts-th failure without progress', (_name, outcome, message) => {
    const d = decide(outcome, { failures: POLICY.maxAttempts - 1, attempts: 3, best: 500 }, { offset: 500 });
    expect(d.step.kind).toBe('give-up');
    if (d.step.kind !== 'give-up') return;
    expect(d.step.error).toBeInstanceOf(HubError);
    expect(d.step.error.message).toMatch(message);
    expect(d.step.discardPartial).toBe(false); // kept for a later resume
  });

  it('maxTotalMs without new bytes, waits included', () => {
    const failing = http(503, 'hub');
    // 59 950 ms since progress + a 50 ms wait is just within 60 s; one ms later it is not.
    expect(decide(failing, { lastProgressAt: NOW - 59_950 }).step.kind).toBe('retry');
    expect(decide(failing, { lastProgressAt: NOW - 59_951 }).step.kind).toBe('give-up');
  });
});

describe('nextStep: 429 pauses every task', () => {
  const cases: Array<[string, Headers, number]> = [
    ['Retry-After seconds', { 'retry-after': '7' }, 7000],
    ['Retry-After HTTP-date', { 'retry-after': new Date(NOW + 12_000).toUTCString() }, 12_000],
    ['RateLimit r=0;t=', { ratelimit: '"resolvers";r=0;t=5' }, 5000],
    ['no header (backoff)', {}, BACKOFF[1]],
  ];
  it.each(cases)('%s: the wait goes on the shared gate and is waited out', (_name, headers, askedMs) => {
    const d = decide(http(429, 'hub', headers));
    // A server's wait gets up to min(baseMs, capMs) of jitter on top (0.5 → 50 ms).
    const waitMs = askedMs === BACKOFF[1] ? askedMs : askedMs + 50;
    expect(d.step).toEqual({ kind: 'retry', waitMs, failures: 1, fresh: false, pauseAll: { untilMs: NOW + waitMs, reason: '429 from the hub for org/x' } });
  });

  it('a 429 that leaves the budget still pauses every task, then gives up', () => {
    const d = decide(http(429, 'cdn', { 'retry-after': '120' }));
    expect(d.step.kind).toBe('give-up');
    if (d.step.kind !== 'give-up') return;
    expect(d.step.error.message).toMatch(/rate limited by the Hub/);
    expect(d.step.pauseAll).toEqual({ untilMs: NOW + 120_050, reason: '429 from the cdn for org/x' });
  });
});

describe('nextStep: an expired CDN URL is resolved again', () => {
  it.each([
    ['403 from the CDN', http(403, 'cdn'), {}],
    ['401 from the CDN', http(401, 'cdn'), {}],
    ['404 from a kept CDN URL', http(404, 'cdn'), { cdnUrl: CDN_URL }],
    ['410 from a kept CDN URL', http(410, 'cdn'), { cdnUrl: CDN_URL }],
  ])('%s: retried at once with a fresh URL, counted in the budget', (_name, outcome, state) => {
    const d = decide(outcome, state);
    expect(d.step).toEqual({ kind: 'retry', waitMs: 0, failures: 1, fresh: true });
    expect(d.state.cdnUrl).toBeUndefined();
  });

  it('right after another CDN answer it backs off instead', () => {
    const first = decide(http(403, 'cdn'), { cdnUrl: CDN_URL });
    expect(first.state.lastRetriedCdnAnswer).toBe(true);
    const second = nextStep(http(403, 'cdn'), first.state, { policy: POLICY, now: NOW, offset: 0, random: () => 0.5, blob: BLOB });
    expect(second.step).toEqual({ kind: 'retry', waitMs: BACKOFF[2], failures: 2, fresh: true });
  });

  it('a failure of another kind in between makes the next expiry immediate again', () => {
    const reset = decide(network('ECONNRESET'), { lastRetriedCdnAnswer: true });
    expect(reset.state.lastRetriedCdnAnswer).toBe(false);
  });

  it('gives up once the budget is spent, naming the refusal of a fresh URL', () => {
    const d = decide(http(403, 'cdn'), { failures: POLICY.maxAttempts - 1, attempts: 5, cdnUrl: CDN_URL });
    expect(d.step.kind).toBe('give-up');
    if (d.step.kind !== 'give-up') return;
    expect(d.step.error).toBeInstanceOf(HubError);
    expect(d.step.error.message).toMatch(/the CDN refused data\/a\.bin in dataset org\/x \(403\) even with a freshly resolved URL after 6 attempts/);
  });

  it('a 404 from a CDN just redirected to is final (the URL was not stale)', () => {
    expect(decide(http(404, 'cdn')).step.kind).toBe('give-up');
  });
});

describe('nextStep: final answers give up at once', () => {
  it.each([
    ['401 from the Hub', http(401, 'hub'), AuthError],
    ['403 from the Hub', http(403, 'hub'), AuthError],
    ['gated repo', http(401, 'hub', { 'x-error-code': 'GatedRepo' }), AuthError],
    ['404 from the Hub', http(404, 'hub'), HubError],
    ['RepoNotFound', http(404, 'hub', { 'x-error-code': 'RepoNotFound' }), HubNotFoundError],
    ['501 from the Hub', http(501, 'hub'), HubError],
    ['400 from the Hub', http(400, 'hub'), HubError],
    ['a TLS error', network('ERR_TLS_CERT_ALTNAME_INVALID', { retryable: false }), HubError],
  ])('%s, even with the whole budget left', (_name, outcome, type) => {
    const d = decide(outcome);
    expect(d.step.kind).toBe('give-up');
    if (d.step.kind !== 'give-up') return;
    expect(d.step.error).toBeInstanceOf(type);
    expect(d.step.discardPartial).toBe(false);
    expect(d.step.pauseAll).toBeUndefined();
  });
});

describe('nextStep: integrity failures restart from 0, bounded', () => {
  const wrongRange: Outcome = { kind: 'mismatch', reason: 'Content-Range bytes 0-9/1000 for bytes=500- of 1000', url: CDN_URL };
  const wrongHash: Outcome = { kind: 'corrupt', reason: `sha256 ${'cd'.repeat(32)}, expected ${BLOB.want}` };

  it.each([
    ['a wrong Content-Range', wrongRange],
    ['a wrong hash at the end', wrongHash],
  ])('%s: restart, failures and clock reset, up to maxIntegrityRetries, then IntegrityError', (_name, outcome) => {
    let state: RetryState = { ...initialRetryState(0, NOW - 5000), failures: 2, best: 1000 };
    for (let i = 1; i <= POLICY.maxIntegrityRetries; i++) {
      const d = nextStep(outcome, state, { policy: POLICY, now: NOW, offset: 1000, random: () => 0.5, blob: BLOB });
      expect(d.step).toEqual({ kind: 'restart', reason: outcome.reason, integrityFailures: i });
      expect(d.state).toMatchObject({ integrityFailures: i, best: 0, failures: 0, lastProgressAt: NOW });
      state = { ...d.state, best: 1000 };
    }
    const last = nextStep(outcome, state, { policy: POLICY, now: NOW, offset: 1000, random: () => 0.5, blob: BLOB });
    expect(last.step.kind).toBe('give-up');
    if (last.step.kind !== 'give-up') return;
    expect(last.step.error).toBeInstanceOf(IntegrityError);
    expect(last.step.error.message).toBe(`data/a.bin in dataset org/x failed verification 3 times: ${outcome.reason}`);
    expect(last.step.discardPartial).toBe(true); // no final file, no corrupt partial left behind
  });

  it('bad bytes from the CDN drop its URL; a bad hash at the end keeps it and is no attempt', () => {
    expect(decide(wrongRange, { cdnUrl: CDN_URL, attempts: 2 }).state).toMatchObject({ cdnUrl: undefined, attempts: 3 });
    expect(decide(wrongHash, { cdnUrl: CDN_URL, attempts: 2 }).state).toMatchObject({ cdnUrl: CDN_URL, attempts: 2 });
  });
});

describe('nextStep: complete and ignored Range', () => {
  it('a complete body is verified next, keeping the CDN URL it came from', () => {
    const d = decide({ kind: 'complete', url: CDN_URL, source: 'cdn' }, { attempts: 1 }, { offset: 1000 });
    expect(d.step).toEqual({ kind: 'verify' });
    expect(d.state).toMatchObject({ attempts: 2, cdnUrl: CDN_URL, best: 1000, failures: 0 });
  });

  // A 200 to `Range: bytes=600-` is restarted inside the attempt (the same answer written from
  // 0); the decision sees only how that answer ended.
  it('a 200 to a ranged request written whole from 0: verify, no integrity retry spent', () => {
    const d = decide({ kind: 'complete', url: CDN_URL, source: 'cdn' }, { best: 600, failures: 2 }, { offset: 1000 });
    expect(d.step).toEqual({ kind: 'verify' });
    expect(d.state).toMatchObject({ integrityFailures: 0, failures: 0, best: 1000 });
  });

  it('the same answer cut below the earlier best: a failure, not progress', () => {
    const d = decide(network('ECONNRESET', { source: 'cdn' }), { best: 600, failures: 0, lastProgressAt: NOW - 1000 }, { offset: 300 });
    expect(d.step).toEqual({ kind: 'retry', waitMs: BACKOFF[1], failures: 1, fresh: false });
    expect(d.state).toMatchObject({ best: 600, lastProgressAt: NOW - 1000 });
  });
});

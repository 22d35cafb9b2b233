import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { AuthError, HubError, InterruptedError, LeaseLostError } from '@hfhpc/core';
import { downloadBlob, type DownloadGate } from '../../src/index.js';
import { send, serve } from './serve.js';
import { content, lfsParams, redirectToCdn, startRig, type Rig } from './setup.js';

/** A gate that records pauses and never waits; the engine's own waits go through `sleep`. */
function recordingGate() {
  const pauses: Array<{ untilMs: number; reason: string }> = [];
  const gate: DownloadGate & { pauses: typeof pauses; waits: number } = {
    pauses,
    waits: 0,
    async wait() {
      gate.waits++;
    },
    pause(untilMs, reason) {
      pauses.push({ untilMs, reason });
    },
  };
  return gate;
}

describe('downloadBlob: retries and errors', () => {
  let rig: Rig;
  beforeEach(async () => (rig = await startRig()));
  afterEach(() => rig.close());

  const NOW = Date.parse('2026-11-28T13:00:00Z');
  const cases429: Array<[string, Record<string, string>, number]> = [
    ['Retry-After seconds', { 'retry-after': '7' }, 7000],
    ['Retry-After HTTP-date', { 'retry-after': new Date(NOW + 12_000).toUTCString() }, 12_000],
    ['RateLimit r=0;t=', { ratelimit: '"resolvers";r=0;t=5', 'ratelimit-policy': '"fixed window";"resolvers";q=5000;w=300' }, 5000],
  ];
  it.each(cases429)('429 with %s pauses every task through the gate, then succeeds', async (_name, headers, waitMs) => {
    const body = content(10_000);
    const cdnRedirect = redirectToCdn(rig, body);
    rig.hubHandler = (req, res, i) => (i === 0 ? res.writeHead(429, headers).end('{"error":"Too many requests"}') : cdnRedirect(req, res));
    rig.cdnHandler = (req, res) => send(req, res, rig.cdn, body);
    const gate = recordingGate();
    const slept: number[] = [];

    const result = await downloadBlob({
      ...lfsParams(rig, body),
      gate,
      now: () => NOW,
      random: () => 0,
      sleep: async (ms) => void slept.push(ms),
    });

    expect(result.attempts).toBe(2);
    expect(gate.pauses).toEqual([{ untilMs: NOW + waitMs, reason: '429 from the hub for org/x' }]);
    expect(slept).toEqual([waitMs]);
    expect(gate.waits).toBe(2); // before each request to the Hub
    expect(rig.hub.seen).toHaveLength(2);
  });

  it('rides out a 503 burst with backoff', async () => {
    const body = content(10_000);
    const cdnRedirect = redirectToCdn(rig, body);
    rig.hubHandler = (req, res, i) => (i < 3 ? res.writeHead(503).end() : cdnRedirect(req, res));
    rig.cdnHandler = (req, res) => send(req, res, rig.cdn, body);
    const slept: number[] = [];

    const result = await downloadBlob({
      ...lfsParams(rig, body),
      retry: { baseMs: 10, capMs: 30 },
      random: () => 0.5,
      sleep: async (ms) => void slept.push(ms),
    });

    expect(result.attempts).toBe(4);
    expect(slept).toEqual([5, 10, 15]); // full jitter at 0.5 of the 10, 20, 40→30 (capped) ms windows
  });

  it('gives up on a persistent 503 after maxAttempts with a clear error', async () => {
    const body = content(100);
    rig.hubHandler = (_req, res) => res.writeHead(503).end();
    const err = await downloadBlob({ ...lfsParams(rig, body), retry: { baseMs: 1, capMs: 2, maxAttempts: 3 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HubError);
    expect((err as Error).message).toBe('Hub server error 503 for data/a.parquet in dataset org/x after 3 attempts');
    expect(rig.hub.seen).toHaveLength(3);
  });

  const fatal: Array<[string, number, Record<string, string>, new (...a: never[]) => Error, RegExp]> = [
    ['gated, no token', 401, { 'x-error-code': 'GatedRepo' }, AuthError, /gated dataset: log in/],
    ['gated, token not on the list', 403, { 'x-error-code': 'GatedRepo' }, AuthError, /not on its access list/],
    ['bad token', 401, { 'x-error-message': 'Invalid credentials in Authorization header' }, AuthError, /^Invalid credentials/],
    ['repo not found', 404, { 'x-error-code': 'RepoNotFound' }, HubError, /not found or no access/],
    ['entry not found', 404, { 'x-error-code': 'EntryNotFound' }, HubError, /^data\/a\.parquet not found in dataset org\/x at c0ffee/],
  ];
  it.each(fatal)('%s (%i) fails at once, without a retry', async (_name, status, headers, type, message) => {
    rig.hubHandler = (_req, res) => res.writeHead(status, headers).end();
    const body = content(100);
    const p = lfsParams(rig, body);
    const err = await downloadBlob(p).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(type);
    expect((err as Error).message).toMatch(message);
    expect(rig.hub.seen).toHaveLength(1);
    expect(existsSync(p.finalPath)).toBe(false);
  });

  it('resolves again when the signed CDN URL expired (403), also in the middle of a resume', async () => {
    const body = content(1024 * 1024);
    rig.hubHandler = redirectToCdn(rig, body);
    rig.cdnHandler = (req, res, i) => {
      if (i === 0) return send(req, res, rig.cdn, body, { cutAfter: 300_000 });
      if (i === 1) return void res.writeHead(403, { 'content-type': 'application/xml' }).end('<Error>Request has expired</Error>');
      send(req, res, rig.cdn, body);
    };
    const p = lfsParams(rig, body);

    const result = await downloadBlob(p);

    expect(rig.hub.seen).toHaveLength(2);
    expect(rig.cdn.seen.map((s) => s.headers.range)).toEqual([undefined, 'bytes=300000-', 'bytes=300000-']);
    expect(result.attempts).toBe(3);
    expect(readFileSync(p.finalPath).equals(body)).toBe(true);
  });

  it('gives up a kept CDN URL that stops answering and resolves again (another CDN host)', async () => {
    const body = content(1024 * 1024);
    const cdn2 = await serve((req, res) => send(req, res, cdn2, body));
    try {
      rig.hubHandler = (req, res, i) => (i === 0 ? redirectToCdn(rig, body)(req, res) : res.writeHead(302, { location: `${cdn2.origin}/b?sig=2` }).end());
      // The first CDN host serves part of the body, then never answers again.
      rig.cdnHandler = (req, res, i) => (i === 0 ? send(req, res, rig.cdn, body, { cutAfter: 400_000 }) : res.socket?.destroy());
      const p = lfsParams(rig, body);

      await downloadBlob(p);

      expect(readFileSync(p.finalPath).equals(body)).toBe(true);
      expect(rig.hub.seen).toHaveLength(2);
      expect(cdn2.seen).toHaveLength(1);
      expect(cdn2.seen[0]!.headers.range).toMatch(/^bytes=[1-9]\d*-$/);
    } finally {
      await cdn2.close();
    }
  });

  it('retries a refused connection, then reports a network failure', async () => {
    const body = content(100);
    const p = lfsParams(rig, body);
    const dead = rig.hub.origin;
    await rig.hub.close();
    const err = await downloadBlob({ ...p, retry: { baseMs: 1, capMs: 2, maxAttempts: 2 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HubError);
    expect((err as Error).message).toBe(`network failure (ECONNREFUSED) downloading data/a.parquet in dataset org/x from ${dead}/datasets/org/x/resolve/c0ffee0000000000000000000000000000000001/data/a.parquet after 2 attempts`);
  });

  it.each(['local', 'worker'] as const)('aborts promptly, keeping the partial file; a LeaseLostError reason comes back as is (%s hash)', async (hashThread) => {
    const body = content(2 * 1024 * 1024);
    rig.hubHandler = redirectToCdn(rig, body);
    rig.cdnHandler = (req, res) => send(req, res, rig.cdn, body, { stallAfter: 256 * 1024 });
    const p = lfsParams(rig, body, { hashThread });

    const step = 256 * 1024;
    for (const [run, reason] of [undefined, new LeaseLostError('lease of shard 3 lost')].entries()) {
      const ac = new AbortController();
      const err = await downloadBlob({
        ...p,
        signal: ac.signal,
        progressIntervalMs: 10,
        onProgress: (n) => n >= step * (run + 1) && ac.abort(reason),
      }).catch((e: unknown) => e);
      if (reason) expect(err).toBe(reason);
      else {
        expect(err).toBeInstanceOf(InterruptedError);
        expect((err as Error).message).toContain(`${step} bytes kept in ${p.partialPath}`);
      }
      expect(statSync(p.partialPath).size).toBe(step * (run + 1));
      expect(existsSync(p.finalPath)).toBe(false);
    }
    // The second run resumed from the first one's partial file.
    expect(rig.cdn.seen[1]!.headers.range).toBe(`bytes=${step}-`);
  });
});

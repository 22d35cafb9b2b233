import { describe, expect, it } from '@jest/globals';
import {
  AuthError,
  classifyHttpFailure,
  displayUrl,
  ExitCode,
  HubError,
  hubErrorFromNetworkFailure,
  hubErrorFromResponse,
} from '../src/index.js';

describe('classifyHttpFailure', () => {
  it('retries 408, 5xx and transient network errors', () => {
    for (const statusCode of [408, 500, 502, 503, 504, 507, 520]) expect(classifyHttpFailure({ statusCode })).toBe('retry');
    for (const errorCode of ['ECONNRESET', 'ETIMEDOUT', 'ECONNREFUSED', 'EPIPE', 'ERR_HTTP_CONTENT_LENGTH_MISMATCH']) {
      expect(classifyHttpFailure({ errorCode })).toBe('retry');
    }
  });

  it('treats 429 as rate limiting', () => {
    expect(classifyHttpFailure({ statusCode: 429, headers: { 'retry-after': '1' } })).toBe('rate-limited');
  });

  it('re-resolves a CDN 401/403 but never retries the Hub\'s', () => {
    expect(classifyHttpFailure({ statusCode: 403, source: 'cdn' })).toBe('expired-url');
    expect(classifyHttpFailure({ statusCode: 401, source: 'cdn' })).toBe('expired-url');
    expect(classifyHttpFailure({ statusCode: 403, source: 'hub' })).toBe('fatal');
    // Inferred: the Hub labels its errors, S3/CloudFront do not.
    expect(classifyHttpFailure({ statusCode: 403, headers: { 'x-error-code': 'GatedRepo' } })).toBe('fatal');
    expect(classifyHttpFailure({ statusCode: 403, headers: { 'content-type': 'application/xml' } })).toBe('expired-url');
  });

  it('gives up on 404, other 4xx, 501, TLS and unknown errors', () => {
    for (const statusCode of [400, 404, 410, 416, 501, 505]) expect(classifyHttpFailure({ statusCode })).toBe('fatal');
    expect(classifyHttpFailure({ errorCode: 'CERT_HAS_EXPIRED' })).toBe('fatal');
    expect(classifyHttpFailure({})).toBe('fatal');
  });
});

describe('hubErrorFromResponse', () => {
  const common = {
    url: 'http://127.0.0.1:9/datasets/bigcode/x/resolve/abc/data/a.parquet?Signature=SECRET',
    repo: 'bigcode/x',
    path: 'data/a.parquet',
    hubUrl: 'https://hub.example/',
  };

  it('gated without a token: log in', () => {
    const e = hubErrorFromResponse({ ...common, statusCode: 401, headers: { 'x-error-code': 'GatedRepo' } });
    expect(e).toBeInstanceOf(AuthError);
    expect(e.message).toBe('bigcode/x is a gated dataset: log in to download it');
    expect(e.hint).toContain('https://hub.example/datasets/bigcode/x');
    expect(e.exitCode).toBe(ExitCode.BAD_INPUT);
  });

  it('gated with a token not on the list: request access on the repo page', () => {
    const e = hubErrorFromResponse({ ...common, statusCode: 403, headers: { 'X-Error-Code': 'GatedRepo' } });
    expect(e).toBeInstanceOf(AuthError);
    expect(e.message).toContain('not on its access list');
    expect(e.hint).toBe('request access at https://hub.example/datasets/bigcode/x with the account that owns the token, then run again');
  });

  it('bad token', () => {
    const e = hubErrorFromResponse({
      ...common,
      statusCode: 401,
      headers: { 'x-error-message': 'Invalid credentials in Authorization header' },
    });
    expect(e).toBeInstanceOf(AuthError);
    expect(e.message).toMatch(/^Invalid credentials/);
    expect(e.hint).toContain('https://hub.example/settings/tokens');
  });

  it('repo not found or no access, with and without a token', () => {
    const anon = hubErrorFromResponse({ ...common, statusCode: 401, headers: { 'x-error-code': 'RepoNotFound' } });
    const withToken = hubErrorFromResponse({ ...common, statusCode: 404, headers: { 'x-error-code': 'RepoNotFound' } });
    for (const e of [anon, withToken]) {
      expect(e).toBeInstanceOf(HubError);
      expect(e.message).toBe('dataset bigcode/x not found or no access');
      expect(e.exitCode).toBe(ExitCode.BAD_INPUT); // the manifest names something that is not there
    }
    expect(anon.hint).toContain('HF_TOKEN');
    expect(withToken.hint).not.toContain('HF_TOKEN');
  });

  it('revision and entry not found', () => {
    const rev = hubErrorFromResponse({ ...common, statusCode: 404, revision: 'v9', headers: { 'x-error-code': 'RevisionNotFound' } });
    expect(rev.message).toBe('revision v9 not found in dataset bigcode/x');
    const entry = hubErrorFromResponse({ ...common, statusCode: 404, revision: 'abc', headers: { 'x-error-code': 'EntryNotFound' } });
    expect(entry.message).toBe('data/a.parquet not found in dataset bigcode/x at abc');
    expect((entry as HubError).hubErrorCode).toBe('EntryNotFound');
    expect((entry as HubError).statusCode).toBe(404);
  });

  it('rate limited and server errors after retries', () => {
    const rl = hubErrorFromResponse({ ...common, statusCode: 429, attempts: 6 });
    expect(rl.message).toBe('rate limited by the Hub while downloading data/a.parquet in dataset bigcode/x after 6 attempts');
    const s = hubErrorFromResponse({ ...common, statusCode: 503, attempts: 4, source: 'cdn' });
    expect(s.message).toBe('CDN server error 503 for data/a.parquet in dataset bigcode/x after 4 attempts');
  });

  it('uses the Hub\'s own words from the JSON body, and never leaks the signed query', () => {
    const e = hubErrorFromResponse({ ...common, statusCode: 400, body: '{"error":"Bad request: weird"}', source: 'hub' });
    expect(e.message).toContain('Bad request: weird');
    expect(e.message).not.toContain('SECRET');
    expect(JSON.stringify(e.context)).not.toContain('SECRET');
    const disabled = hubErrorFromResponse({ ...common, statusCode: 403, headers: { 'x-error-message': 'Access to this resource is disabled.' } });
    expect(disabled.message).toBe('dataset bigcode/x is disabled on the Hub');
  });

  it('a CDN that refuses even a fresh URL is a Hub error, not an auth error', () => {
    const e = hubErrorFromResponse({ ...common, statusCode: 403, source: 'cdn', attempts: 3 });
    expect(e).toBeInstanceOf(HubError);
    expect(e.message).toContain('CDN refused');
  });
});

describe('hubErrorFromNetworkFailure and displayUrl', () => {
  it('names the code, the file and the attempts, without the query', () => {
    const e = hubErrorFromNetworkFailure({ errorCode: 'ECONNRESET', url: 'http://127.0.0.1:1/x?X-Amz-Signature=s', repo: 'a/b', path: 'f', attempts: 5 });
    expect(e.message).toBe('network failure (ECONNRESET) downloading f in dataset a/b from http://127.0.0.1:1/x after 5 attempts');
  });

  it('drops credentials and query strings', () => {
    expect(displayUrl('https://user:pw@cdn.example:8443/a/b?sig=1#f')).toBe('https://cdn.example:8443/a/b');
    expect(displayUrl('not a url?x=1')).toBe('not a url');
  });
});

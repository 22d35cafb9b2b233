// Turning a failed HTTP exchange into a decision (retry? wait? re-resolve? give up) and, when
// giving up, into the typed error the user sees (docs/hub-protocol.md §2, §3). Messages name the
// repo and what to do; they never carry a token, and URLs lose their query (signed CDN URLs).
import { AuthError, HubError, HubNotFoundError, type HfhpcError } from './errors.js';
import { headerValue, type HttpHeaders } from './rate-limit-headers.js';

export type HttpFailureClass = 'retry' | 'rate-limited' | 'fatal' | 'expired-url';
/** Who answered: the Hub itself, or the CDN a resolve redirected to. */
export type HttpSource = 'hub' | 'cdn';

/** Network-level error codes worth another attempt (Node, got and undici spellings). */
export const RETRYABLE_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ERR_STREAM_PREMATURE_CLOSE',
  'ERR_HTTP_CONTENT_LENGTH_MISMATCH',
  'ERR_READING_RESPONSE_STREAM',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

const RETRYABLE_STATUS = new Set([408, 500, 502, 503, 504]);

export interface ClassifyHttpFailureParams {
  /** HTTP status of the answer, when there was one. */
  statusCode?: number;
  /** Network error code when there was no (complete) answer: ECONNRESET, ETIMEDOUT, … */
  errorCode?: string;
  headers?: HttpHeaders;
  /**
   * Who answered. A 401/403 from the CDN means its signed URL expired (resolve again); from
   * the Hub it is final. Default: inferred — the Hub labels its errors with X-Error-Code or
   * X-Error-Message, the CDN does not.
   */
  source?: HttpSource;
}

/**
 * What to do about a failure:
 * - `rate-limited`: 429; wait what the server asked (see `rateLimitWaitMs`), cluster-wide.
 * - `retry`: 408, 5xx (except 501/505) and transient network errors; back off and retry.
 * - `expired-url`: 401/403 from the CDN; resolve on the Hub again for a fresh signed URL.
 * - `fatal`: everything else (401/403 from the Hub, 404, other 4xx, TLS and unknown errors).
 */
export function classifyHttpFailure(params: ClassifyHttpFailureParams): HttpFailureClass {
  const { statusCode, errorCode, headers } = params;
  if (statusCode !== undefined) {
    if (statusCode === 429) return 'rate-limited';
    if (RETRYABLE_STATUS.has(statusCode)) return 'retry';
    if (statusCode >= 500 && statusCode !== 501 && statusCode !== 505) return 'retry';
    if (statusCode === 401 || statusCode === 403) {
      const source = params.source ?? (isHubLabelled(headers) ? 'hub' : 'cdn');
      return source === 'cdn' ? 'expired-url' : 'fatal';
    }
    return 'fatal';
  }
  if (errorCode !== undefined && RETRYABLE_ERROR_CODES.has(errorCode)) return 'retry';
  return 'fatal';
}

export interface HubErrorFromResponseParams {
  statusCode: number;
  headers?: HttpHeaders;
  /** The answer's body (JSON `{"error": …}` or text), if read; only its message is used. */
  body?: string | Uint8Array | Record<string, unknown>;
  /** The URL that answered (its query string is dropped from messages). */
  url: string;
  /** `org/name` of the dataset. */
  repo: string;
  /** File path inside the repo, for resolve requests. */
  path?: string;
  /** Revision or commit asked for, for the message. */
  revision?: string;
  /** Hub base URL, for links to the repo page (`<hubUrl>/datasets/<repo>`). */
  hubUrl: string;
  /** Attempts made before giving up, for rate-limit and server errors. */
  attempts?: number;
  /** Who answered; default inferred as in `classifyHttpFailure`. */
  source?: HttpSource;
}

/** The typed error for a final failed answer, with a distinct message per case of §2.1. */
export function hubErrorFromResponse(params: HubErrorFromResponseParams): HfhpcError {
  const f = responseFacts(params);
  return gateOrTokenError(f) ?? namedEntryError(f) ?? statusError(f);
}

/** What every message is made of: the answer's labels, the repo page, the request in words. */
interface ResponseFacts {
  statusCode: number;
  repo: string;
  path?: string;
  revision?: string;
  hubUrl: string;
  repoPage: string;
  code?: string;
  serverMessage?: string;
  url: string;
  what: string;
  after: string;
  source: HttpSource;
  context: Record<string, unknown>;
  base: { statusCode: number; hubErrorCode?: string; url: string; context: Record<string, unknown> };
}

function responseFacts(params: HubErrorFromResponseParams): ResponseFacts {
  const { statusCode, headers, repo, path, revision, attempts } = params;
  const hubUrl = params.hubUrl.replace(/\/+$/, '');
  const repoPage = `${hubUrl}/datasets/${repo}`;
  const code = headerValue(headers, 'x-error-code');
  const serverMessage = (headerValue(headers, 'x-error-message') ?? bodyMessage(params.body))?.slice(0, 300);
  const url = displayUrl(params.url);
  const what = path ? `${path} in dataset ${repo}` : `dataset ${repo}`;
  const after = attempts && attempts > 1 ? ` after ${attempts} attempts` : '';
  const source = params.source ?? (isHubLabelled(headers) ? 'hub' : 'cdn');
  const context = { statusCode, repo, path, revision, url, hubErrorCode: code, serverMessage };
  const base = { statusCode, hubErrorCode: code, url, context };
  return { statusCode, repo, path, revision, hubUrl, repoPage, code, serverMessage, url, what, after, source, context, base };
}

/** A gated repo, or a token the Hub rejects. */
function gateOrTokenError(f: ResponseFacts): HfhpcError | undefined {
  const { statusCode, repo, hubUrl, repoPage, code, serverMessage, context } = f;
  if (code === 'GatedRepo' && statusCode === 401) {
    return new AuthError(`${repo} is a gated dataset: log in to download it`, {
      context,
      hint: `set HF_TOKEN (or run \`hf auth login\`) with an account that accepted the terms at ${repoPage}`,
    });
  }
  if (code === 'GatedRepo') {
    return new AuthError(`${repo} is a gated dataset and this token's account is not on its access list`, {
      context,
      hint: `request access at ${repoPage} with the account that owns the token, then run again`,
    });
  }
  if (statusCode === 401 && /invalid credentials/i.test(serverMessage ?? '')) {
    return new AuthError('Invalid credentials: the Hub rejected the token (invalid or revoked)', {
      context,
      hint: `create a new token at ${hubUrl}/settings/tokens and set HF_TOKEN or run \`hf auth login\``,
    });
  }
  return undefined;
}

/** The Hub named what is missing (repo, revision, file) or disabled. */
function namedEntryError(f: ResponseFacts): HfhpcError | undefined {
  const { statusCode, repo, path, revision, repoPage, code, serverMessage, base } = f;
  if (code === 'RepoNotFound') {
    return new HubNotFoundError(`dataset ${repo} not found or no access`, {
      ...base,
      hint:
        statusCode === 401
          ? `check the repo id at ${repoPage}; if it is private, set HF_TOKEN or run \`hf auth login\``
          : `check the repo id at ${repoPage} and that the token's account can see it`,
    });
  }
  if (code === 'RevisionNotFound') {
    return new HubNotFoundError(`revision ${revision ?? '(unknown)'} not found in dataset ${repo}`, {
      ...base,
      hint: `check the revision (branch, tag or commit) at ${repoPage}/tree/main`,
    });
  }
  if (code === 'EntryNotFound') {
    return new HubError(`${path ?? 'path'} not found in dataset ${repo}${revision ? ` at ${revision}` : ''}`, {
      ...base,
      hint: 'the file list changed on the Hub; run `hfhpc plan` again',
    });
  }
  if (/disabled/i.test(serverMessage ?? '')) {
    return new HubError(`dataset ${repo} is disabled on the Hub`, { ...base, hint: `see ${repoPage}` });
  }
  return undefined;
}

/** Everything else, by status: rate limit, server error, refusal, 404, the unexpected. */
function statusError(f: ResponseFacts): HfhpcError {
  const { statusCode, repoPage, serverMessage, url, what, after, source, context, base } = f;
  if (statusCode === 429) {
    return new HubError(`rate limited by the Hub while downloading ${what}${after}`, {
      ...base,
      hint: 'every task shares one token budget; lower the array\'s --max-parallel or --concurrency, or run again later',
    });
  }
  if (statusCode >= 500) {
    return new HubError(`${source === 'cdn' ? 'CDN' : 'Hub'} server error ${statusCode} for ${what}${after}`, {
      ...base,
      hint: 'the service is failing; run again later (finished files are kept)',
    });
  }
  if ((statusCode === 401 || statusCode === 403) && source === 'cdn') {
    return new HubError(`the CDN refused ${what} (${statusCode}) even with a freshly resolved URL${after}`, {
      ...base,
      hint: 'run again later; if it persists, report it with the log',
    });
  }
  if (statusCode === 401 || statusCode === 403) {
    return new AuthError(`the Hub refused access to ${what} (${statusCode}${serverMessage ? `: ${serverMessage}` : ''})`, {
      context,
      hint: `check that the token may read ${repoPage} (fine-grained tokens need read access to it)`,
    });
  }
  if (statusCode === 404) {
    return new HubError(`${what} not found (404 from ${url})`, { ...base, hint: 'run `hfhpc plan` again' });
  }
  return new HubError(`unexpected answer ${statusCode} for ${what} from ${url}${serverMessage ? `: ${serverMessage}` : ''}`, {
    ...base,
    hint: 'run again; if it persists, report it with the log',
  });
}

export interface NetworkFailureParams {
  /** Network error code (ECONNRESET, ETIMEDOUT, …) or a short reason. */
  errorCode: string;
  url: string;
  repo: string;
  path?: string;
  attempts?: number;
  cause?: unknown;
}

/** The error after network failures (no usable answer) exhausted the retries. */
export function hubErrorFromNetworkFailure(params: NetworkFailureParams): HubError {
  const { errorCode, repo, path, attempts, cause } = params;
  const url = displayUrl(params.url);
  const what = path ? `${path} in dataset ${repo}` : `dataset ${repo}`;
  return new HubError(`network failure (${errorCode}) downloading ${what} from ${url}${attempts && attempts > 1 ? ` after ${attempts} attempts` : ''}`, {
    url,
    cause,
    context: { errorCode, repo, path, url, attempts },
    hint: 'check the connection to the Hub from this node (`hfhpc doctor`); finished and partial files are kept',
  });
}

/** A URL fit for messages and logs: no credentials, no query (signed CDN URLs carry signatures). */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return url.replace(/[?#].*$/, '');
  }
}

function isHubLabelled(headers: HttpHeaders | undefined): boolean {
  return headerValue(headers, 'x-error-code') !== undefined || headerValue(headers, 'x-error-message') !== undefined;
}

function bodyMessage(body: HubErrorFromResponseParams['body']): string | undefined {
  if (body === undefined) return undefined;
  if (typeof body === 'object' && !(body instanceof Uint8Array)) {
    return typeof body.error === 'string' ? body.error : undefined;
  }
  const text = typeof body === 'string' ? body : Buffer.from(body).toString('utf8');
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && typeof (parsed as { error?: unknown }).error === 'string') {
      return (parsed as { error: string }).error;
    }
  } catch {
    // Not JSON: a short plain-text body is still the server's own words.
  }
  const trimmed = text.trim();
  return trimmed && trimmed.length <= 300 && !trimmed.startsWith('<') ? trimmed : undefined;
}

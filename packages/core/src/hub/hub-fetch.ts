// The `fetch` handed to @huggingface/hub for API calls (repo info, tree pages). The library
// neither retries nor keeps the Hub's X-Error-Code, and it would send the token to whatever
// absolute URL a `Link` header names. This wrapper owns those three things: it adds the token
// only for the Hub's own origin (also across redirects), retries 5xx/408/429 and network
// errors with core's backoff (honouring Retry-After and RateLimit), and turns a final failure
// into core's typed error, which then propagates out of the library call unchanged.
import { classifyHttpFailure, hubErrorFromNetworkFailure, hubErrorFromResponse } from '../http-error.js';
import { rateLimitWaitMs } from '../rate-limit-headers.js';
import { retryDelay } from '../retry-delay.js';
import { sameOrigin } from '../hub-url.js';

/** Options every Hub client call takes. */
export interface HubClientOptions {
  /** Hub base URL, already validated (`assertHubUrl`). */
  hubUrl: string;
  /** Sent as `Authorization: Bearer` to the Hub's origin only. Default: none (anonymous). */
  accessToken?: string;
  /** The transport. Default: the global `fetch`. */
  fetch?: typeof fetch;
  /** Attempts per request, the first included. Default 6. */
  maxAttempts?: number;
  /** Backoff base in ms (see `retryDelay`). Default 1000. */
  retryBaseMs?: number;
  /** Longest backoff window in ms. Default 60 000. */
  retryCapMs?: number;
  /** Waits between attempts. Default: a timer. */
  sleep?: (ms: number) => Promise<void>;
  /** Clock for HTTP-date Retry-After. Default `Date.now`. */
  now?: () => number;
  /** Told about every retry (for a log line). */
  onRetry?: (info: RetryInfo) => void;
}

export interface RetryInfo {
  attempt: number;
  delayMs: number;
  url: string;
  /** `HTTP 503`, `rate limited (429)` or a network error code. */
  reason: string;
}

export interface HubFetchContext {
  /** `org/name`, for error messages. */
  repo: string;
  /** Revision asked for, for error messages. */
  revision?: string;
  /** File path, for resolve probes. */
  path?: string;
  /**
   * Request the `Link: rel="next"` page of a successful GET as soon as its headers arrive, so
   * the server prepares page k+1 while the caller parses page k. Default false.
   */
  prefetchNext?: boolean;
}

/** The Hub fetch; `discardPrefetched()` drops a next page fetched ahead that nobody will ask for. */
export type HubFetch = typeof fetch & { discardPrefetched(): void };

const MAX_REDIRECTS = 5;
const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// The same rule as @huggingface/hub's parseLinkHeader: an absolute URL, then `; rel="next"`.
const NEXT_LINK_RE = /<(https?:[/][/][^>]+)>;\s+rel="next"/;

/** What one Hub fetch needs for every request: its options filled in and the repo it is about. */
interface HubRequester {
  options: HubClientOptions;
  context: HubFetchContext;
  transport: typeof fetch;
  maxAttempts: number;
  sleep: (ms: number) => Promise<void>;
  now: () => number;
}

/** A `fetch` for Hub API calls about one repo; see the file comment. */
export function createHubFetch(options: HubClientOptions, context: HubFetchContext): HubFetch {
  const r: HubRequester = {
    options,
    context,
    transport: options.fetch ?? fetch,
    maxAttempts: options.maxAttempts ?? 6,
    sleep: options.sleep ?? defaultSleep,
    now: options.now ?? Date.now,
  };
  let ahead: { url: string; response: Promise<Response> } | undefined;
  const discardPrefetched = (): void => {
    ahead?.response.then((res) => res.body?.cancel(), () => undefined);
    ahead = undefined;
  };
  const hubFetch = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const url = input instanceof Request ? input.url : String(input);
    const isGet = (init.method ?? 'GET').toUpperCase() === 'GET';
    let res: Response;
    if (ahead && ahead.url === url && isGet) {
      const pending = ahead.response;
      ahead = undefined;
      res = await pending;
    } else {
      discardPrefetched();
      res = await request(r, url, init);
    }
    const next = context.prefetchNext && isGet && res.ok ? NEXT_LINK_RE.exec(res.headers.get('link') ?? '')?.[1] : undefined;
    if (next) {
      const response = request(r, next, init);
      response.catch(() => undefined); // surfaces when the caller asks for that page
      ahead = { url: next, response };
    }
    return res;
  };
  return Object.assign(hubFetch, { discardPrefetched });
}

/** One request, following redirects here, not in fetch, so the token is dropped when the origin changes. */
async function fetchFollowingRedirects(r: HubRequester, url: string, init: RequestInit): Promise<Response> {
  const { accessToken, hubUrl } = r.options;
  let current = url;
  for (let hop = 0; ; hop++) {
    const headers = new Headers(init.headers);
    headers.delete('authorization');
    if (accessToken && sameOrigin(current, hubUrl)) headers.set('authorization', `Bearer ${accessToken}`);
    const res = await r.transport(current, { ...init, headers, redirect: 'manual' });
    const location = res.headers.get('location');
    if (init.redirect === 'manual' || res.status < 300 || res.status >= 400 || !location || hop >= MAX_REDIRECTS) return res;
    await res.body?.cancel();
    current = new URL(location, current).toString();
  }
}

/** The request, retried on network failures, 5xx and 429 (bounded); other failures become typed errors. */
async function request(r: HubRequester, url: string, init: RequestInit): Promise<Response> {
  const { context } = r;
  for (let attempt = 1; ; attempt++) {
    let res: Response;
    try {
      res = await fetchFollowingRedirects(r, url, init);
    } catch (err) {
      const errorCode = networkErrorCode(err);
      if (attempt < r.maxAttempts && classifyHttpFailure({ errorCode }) === 'retry') {
        await pause(r, attempt, undefined, url, errorCode);
        continue;
      }
      throw hubErrorFromNetworkFailure({ errorCode, url, repo: context.repo, path: context.path, attempts: attempt, cause: err });
    }
    if (res.ok || (res.status >= 300 && res.status < 400)) return res;
    const headers = Object.fromEntries(res.headers.entries());
    const verdict = classifyHttpFailure({ statusCode: res.status, headers, source: 'hub' });
    if (attempt < r.maxAttempts && (verdict === 'retry' || verdict === 'rate-limited')) {
      await res.body?.cancel();
      const serverWaitMs = verdict === 'rate-limited' ? rateLimitWaitMs({ headers, now: r.now() }) : undefined;
      await pause(r, attempt, serverWaitMs, url, verdict === 'rate-limited' ? 'rate limited (429)' : `HTTP ${res.status}`);
      continue;
    }
    throw await failedResponseError(r, res, url, attempt);
  }
}

async function failedResponseError(r: HubRequester, res: Response, url: string, attempts: number): Promise<Error> {
  const body = await res.text().catch(() => undefined);
  return hubErrorFromResponse({
    statusCode: res.status,
    headers: Object.fromEntries(res.headers.entries()),
    body,
    url: res.url || url,
    repo: r.context.repo,
    path: r.context.path,
    revision: r.context.revision,
    hubUrl: r.options.hubUrl,
    attempts,
    source: 'hub',
  });
}

async function pause(r: HubRequester, attempt: number, retryAfterMs: number | undefined, url: string, reason: string): Promise<void> {
  const delayMs = retryDelay({ attempt, retryAfterMs, baseMs: r.options.retryBaseMs, capMs: r.options.retryCapMs });
  r.options.onRetry?.({ attempt, delayMs, url, reason });
  await r.sleep(delayMs);
}

/** undici reports network failures as `TypeError('fetch failed')` with the real code in `cause`. */
function networkErrorCode(err: unknown): string {
  let e: unknown = err;
  for (let depth = 0; e && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return err instanceof Error ? err.message : String(err);
}

// The Hub's rate-limit headers (IETF draft "RateLimit header fields", as the Hub sends them):
//   RateLimit: "api";r=0;t=42                          r = requests left, t = seconds to reset
//   RateLimit-Policy: "fixed window";"api";q=1000;w=300
// The Hub's policy value is not a valid RFC 8941 structured field (a bare string as a
// parameter), so a strict structured-field parser would reject it; this one is lenient.
import { parseRetryAfter } from './retry-delay.js';

/** Response headers as node:http and got give them: lower-case keys. Lookups here ignore case. */
export type HttpHeaders = Readonly<Record<string, string | readonly string[] | number | undefined>>;

/** One item of a `RateLimit` header. */
export interface RateLimitInfo {
  /** The quota's name (`"api"`, `"resolvers"`), when given. */
  name?: string;
  /** Requests left in the window (`r`). */
  remaining?: number;
  /** Seconds until the window resets (`t`). */
  resetSeconds?: number;
  /** Every `key=value` parameter, raw. */
  params: Record<string, string>;
}

/** One item of a `RateLimit-Policy` header. */
export interface RateLimitPolicy {
  /** The quoted names in order, e.g. `["fixed window", "api"]`. */
  names: string[];
  /** Requests allowed per window (`q`). */
  quota?: number;
  /** Window length in seconds (`w`). */
  windowSeconds?: number;
  params: Record<string, string>;
}

/** All values of a header, case-insensitively, repeated headers kept apart. */
export function headerValues(headers: HttpHeaders | undefined, name: string): string[] {
  if (!headers) return [];
  const wanted = name.toLowerCase();
  const out: string[] = [];
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== wanted || value === undefined) continue;
    if (Array.isArray(value)) out.push(...value.map(String));
    else out.push(String(value));
  }
  return out;
}

/** The first value of a header, or undefined. */
export function headerValue(headers: HttpHeaders | undefined, name: string): string | undefined {
  return headerValues(headers, name)[0];
}

/** Parse `RateLimit` header value(s). Malformed items are skipped, never thrown. */
export function parseRateLimit(value: string | readonly string[] | undefined): RateLimitInfo[] {
  return parseItems(value).map(({ names, params }) => ({
    name: names[0],
    remaining: toNumber(params.r),
    resetSeconds: toNumber(params.t),
    params,
  }));
}

/** Parse `RateLimit-Policy` header value(s). */
export function parseRateLimitPolicy(value: string | readonly string[] | undefined): RateLimitPolicy[] {
  return parseItems(value).map(({ names, params }) => ({
    names,
    quota: toNumber(params.q),
    windowSeconds: toNumber(params.w),
    params,
  }));
}

export interface RateLimitWaitParams {
  headers: HttpHeaders | undefined;
  /** Current time in ms since the epoch, for HTTP-date Retry-After. Default `Date.now()`. */
  now?: number;
}

/**
 * How long the server asked us to wait, in ms: the longest of `Retry-After` (seconds or
 * HTTP-date) and `t` of every exhausted (`r=0`) `RateLimit` quota. `undefined` when the
 * server gave no usable hint (the caller then backs off on its own).
 */
export function rateLimitWaitMs(params: RateLimitWaitParams): number | undefined {
  const { headers, now = Date.now() } = params;
  const candidates: number[] = [];
  const retryAfterMs = parseRetryAfter(headerValues(headers, 'retry-after'), now);
  if (retryAfterMs !== undefined) candidates.push(retryAfterMs);
  for (const item of parseRateLimit(headerValues(headers, 'ratelimit'))) {
    if (item.remaining === 0 && item.resetSeconds !== undefined) candidates.push(item.resetSeconds * 1000);
  }
  return candidates.length ? Math.max(...candidates) : undefined;
}

interface RawItem {
  names: string[];
  params: Record<string, string>;
}

function parseItems(value: string | readonly string[] | undefined): RawItem[] {
  const values = value === undefined ? [] : typeof value === 'string' ? [value] : value;
  const items: RawItem[] = [];
  for (const v of values) {
    for (const itemText of splitOutsideQuotes(v, ',')) {
      const item: RawItem = { names: [], params: {} };
      for (const part of splitOutsideQuotes(itemText, ';')) {
        const eq = part.indexOf('=');
        if (part.startsWith('"') || eq < 0) {
          const name = unquote(part);
          if (name) item.names.push(name);
        } else {
          const key = part.slice(0, eq).trim().toLowerCase();
          if (key) item.params[key] = unquote(part.slice(eq + 1));
        }
      }
      if (item.names.length || Object.keys(item.params).length) items.push(item);
    }
  }
  return items;
}

function splitOutsideQuotes(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\\' && quoted && i + 1 < text.length) {
      current += ch + text[++i];
    } else if (ch === '"') {
      quoted = !quoted;
      current += ch;
    } else if (ch === separator && !quoted) {
      parts.push(current.trim());
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current.trim());
  return parts.filter((p) => p.length > 0);
}

function unquote(text: string): string {
  const t = text.trim();
  if (t.length >= 2 && t.startsWith('"') && t.endsWith('"')) return t.slice(1, -1).replace(/\\(.)/g, '$1');
  return t;
}

function toNumber(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d+(\.\d+)?$/.test(text)) return undefined;
  return Number(text);
}

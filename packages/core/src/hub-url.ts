// The Hub base URL and the two security rules attached to it (docs/security.md):
// https only, except plain http on loopback for tests and the demo; and the token goes only to
// the Hub's own origin.
import { isIP } from 'node:net';
import { UsageError } from './errors.js';

export const DEFAULT_HUB_URL = 'https://huggingface.co';

/** Whether `hostname` (as in `URL.hostname`) is a loopback address: 127.0.0.0/8, ::1 or localhost. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || /^::ffff:127\./.test(host) || /^::ffff:7f[0-9a-f]{2}:/.test(host);
  return false;
}

/**
 * Validate a Hub base URL and return it normalized (no trailing `/`). `https://` anywhere;
 * `http://` only for loopback hosts; no credentials, query or fragment. Throws `UsageError`.
 */
export function assertHubUrl(url: string): string {
  const fail = (why: string, hint: string): never => {
    throw new UsageError(`invalid hub URL ${JSON.stringify(url)}: ${why}`, { hint });
  };
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return fail('not a URL', 'give --hub-url / HF_ENDPOINT as an absolute URL, e.g. https://huggingface.co');
  }
  if (u.protocol === 'http:') {
    if (!isLoopbackHost(u.hostname)) {
      fail('plain http is allowed only for loopback addresses', `use https://${u.host}${u.pathname.replace(/\/+$/, '')}`);
    }
  } else if (u.protocol !== 'https:') {
    fail(`unsupported scheme "${u.protocol}"`, 'use an https:// URL');
  }
  // Credentials in the URL would end up in logs and rendered scripts.
  if (u.username || u.password) fail('it contains credentials', 'remove user:password@; the token comes from HF_TOKEN or the token file');
  if (u.search || u.hash) fail('it has a query or fragment', 'give only the base URL, e.g. https://huggingface.co');
  return `${u.origin}${u.pathname}`.replace(/\/+$/, '');
}

/** Whether two URLs have the same origin (scheme, host and port, default ports normalized). */
export function sameOrigin(a: string | URL, b: string | URL): boolean {
  try {
    const ua = new URL(a);
    const ub = new URL(b);
    // `origin` is "null" for non-special schemes; such URLs never match anything.
    return ua.origin !== 'null' && ua.origin === ub.origin;
  } catch {
    return false;
  }
}

// Signed, expiring CDN URLs (CloudFront style: Expires, Signature, Key-Pair-Id). The repo
// and file path ride along (signed) so CDN faults and the request log can name them.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export interface CdnObject {
  sha256: string;
  repo: string;
  path: string;
  /** Unix seconds. */
  expires: number;
}

export type CdnVerdict = ({ ok: true } & CdnObject) | { ok: false; reason: 'malformed' | 'signature' | 'expired'; repo?: string; path?: string };

const OBJECT_PATH = /^\/repos\/[0-9a-f]{2}\/[0-9a-f]{2}\/([0-9a-f]{64})$/;

export class CdnSigner {
  private readonly secret: Buffer;

  constructor(params: { secret?: Buffer } = {}) {
    this.secret = params.secret ?? randomBytes(32);
  }

  private mac(pathname: string, expires: string, repo: string, path: string): Buffer {
    return createHmac('sha256', this.secret).update(`${pathname}\n${expires}\n${repo}\n${path}`).digest();
  }

  /** An absolute URL on the CDN for one LFS object. */
  sign(params: CdnObject & { cdnUrl: string }): string {
    const { sha256, repo, path, expires } = params;
    const pathname = `/repos/${sha256.slice(0, 2)}/${sha256.slice(2, 4)}/${sha256}`;
    const name = path.slice(path.lastIndexOf('/') + 1);
    const q = new URLSearchParams({
      'response-content-disposition': `inline; filename*=UTF-8''${encodeURIComponent(name)};`,
      'x-repo': repo,
      'x-path': path,
      Expires: String(expires),
      Signature: this.mac(pathname, String(expires), repo, path).toString('base64url'),
      'Key-Pair-Id': 'KFAKEHUB0000000',
    });
    return `${params.cdnUrl}${pathname}?${q.toString()}`;
  }

  /** Check a CDN request URL against the signature and `nowSeconds`. */
  verify(params: { url: URL; nowSeconds: number }): CdnVerdict {
    const { url } = params;
    const m = OBJECT_PATH.exec(url.pathname);
    const q = url.searchParams;
    const repo = q.get('x-repo') ?? undefined;
    const path = q.get('x-path') ?? undefined;
    const expires = q.get('Expires');
    const sig = q.get('Signature');
    if (!m || repo === undefined || path === undefined || !expires || !/^\d+$/.test(expires) || !sig) return { ok: false, reason: 'malformed', repo, path };
    const want = this.mac(url.pathname, expires, repo, path);
    const got = Buffer.from(sig, 'base64url');
    if (got.length !== want.length || !timingSafeEqual(got, want)) return { ok: false, reason: 'signature', repo, path };
    if (params.nowSeconds > Number(expires)) return { ok: false, reason: 'expired', repo, path };
    return { ok: true, sha256: m[1], repo, path, expires: Number(expires) };
  }
}

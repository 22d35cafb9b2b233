// Hub URL paths → which endpoint, which repo, and the decoded segments after it.
import type { Endpoint } from '../types.js';

export type HubRoute =
  | { endpoint: 'whoami' }
  | { endpoint: 'list-datasets' }
  | { endpoint: 'other' }
  | {
      endpoint: Exclude<Endpoint, 'whoami' | 'list-datasets' | 'other' | 'cdn'>;
      repoId: string;
      /** Index in the raw segment list where the repo id's two segments start. */
      idAt: number;
      rest: string[];
      raw?: boolean;
    };

/** Undefined when the path is not valid percent-encoding. */
export function parseRoute(pathname: string): HubRoute | undefined {
  let seg: string[];
  try {
    seg = pathname.split('/').slice(1).map((s) => decodeURIComponent(s));
  } catch {
    return undefined;
  }
  if (seg[0] === 'api' && seg[1] === 'whoami-v2' && seg.length === 2) return { endpoint: 'whoami' };
  if (seg[0] === 'api' && seg[1] === 'datasets' && seg.length === 2) return { endpoint: 'list-datasets' };
  if (seg[0] === 'api' && seg[1] === 'datasets' && seg.length >= 4) {
    const repoId = `${seg[2]}/${seg[3]}`;
    const after = seg.slice(4);
    if (after.length === 0) return { endpoint: 'repo-info', repoId, idAt: 2, rest: [] };
    const kind = after[0];
    const rest = after.slice(1);
    if (kind === 'revision' && rest.length) return { endpoint: 'repo-info', repoId, idAt: 2, rest };
    if (kind === 'tree' && rest.length) return { endpoint: 'tree', repoId, idAt: 2, rest };
    if (kind === 'paths-info' && rest.length) return { endpoint: 'paths-info', repoId, idAt: 2, rest };
    return { endpoint: 'other' };
  }
  if (seg[0] === 'datasets' && seg.length >= 6 && (seg[3] === 'resolve' || seg[3] === 'raw')) {
    return { endpoint: 'resolve', repoId: `${seg[1]}/${seg[2]}`, idAt: 1, rest: seg.slice(4), raw: seg[3] === 'raw' };
  }
  return { endpoint: 'other' };
}

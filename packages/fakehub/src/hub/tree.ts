// GET /api/datasets/{id}/tree/{rev}[/{path}]: paginated listing with an opaque cursor (the
// last path sent) and an absolute `Link: <…>; rel="next"`.
import { sendJson } from '../http/respond.js';
import { comparePaths, entriesUnder, type TreeEntry } from '../repo/tree-entries.js';
import type { HubDeps, HubRequest, RepoRoute } from './context.js';
import { entryJson, type HostileEntry } from './entry-json.js';
import { entryNotFound, revisionNotFound } from './errors.js';

function decodeCursor(cursor: string | null): string | undefined {
  if (!cursor) return undefined;
  try {
    const v: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    return v && typeof v === 'object' && typeof (v as { p?: unknown }).p === 'string' ? (v as { p: string }).p : undefined;
  } catch {
    return undefined;
  }
}

/** Index of the first entry whose path sorts after `after`. */
function firstAfter(entries: { path: string }[], after: string): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (comparePaths(entries[mid].path, after) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export async function tree(deps: HubDeps, r: HubRequest, route: RepoRoute): Promise<void> {
  const { repo } = route;
  const split = deps.store.splitRevision(repo, route.rest);
  if (!split.commit) return revisionNotFound(r, split.revision);
  const commit = split.commit;
  const dir = split.rest.join('/');
  const q = r.url.searchParams;
  const recursive = /^true$/i.test(q.get('recursive') ?? '');
  const expand = /^true$/i.test(q.get('expand') ?? '');
  const listed = entriesUnder({ commit, dir, recursive });
  if (!listed) return entryNotFound(r, dir);
  let entries: (TreeEntry | HostileEntry)[] = listed;
  const hostile = dir === '' ? deps.faults.hostile.get(repo.id) : undefined;
  if (hostile?.length) {
    entries = [...listed, ...hostile.map((h) => ({ type: 'hostile' as const, path: h.path, size: h.size }))];
    entries.sort((a, b) => comparePaths(a.path, b.path));
  }
  const after = decodeCursor(q.get('cursor'));
  const from = after === undefined ? 0 : firstAfter(entries, after);
  const size = expand ? deps.expandPageSize : deps.pageSize;
  const page = entries.slice(from, from + size);
  const body = await Promise.all(page.map((entry) => entryJson({ deps, repo, commit, entry, expand })));
  const headers: Record<string, string> = { ...r.common };
  if (from + size < entries.length) {
    const next = new URLSearchParams(q);
    next.set('cursor', Buffer.from(JSON.stringify({ p: page[page.length - 1].path })).toString('base64url'));
    headers.Link = `<${deps.hubUrl()}${r.url.pathname}?${next.toString()}>; rel="next"`;
  }
  sendJson(r, 200, body, headers);
}

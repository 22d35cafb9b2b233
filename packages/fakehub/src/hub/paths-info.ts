// POST /api/datasets/{id}/paths-info/{rev}: entries for the named paths that exist
// (JSON body from the npm client, form body from the Python client).
import type { IncomingMessage } from 'node:http';
import { sendHubError, sendJson } from '../http/respond.js';
import { treeEntries } from '../repo/tree-entries.js';
import type { HubDeps, HubRequest, RepoRoute } from './context.js';
import { entryJson } from './entry-json.js';
import { revisionNotFound } from './errors.js';

const MAX_BODY = 10 << 20;

async function readBody(req: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    n += chunk.length;
    if (n > MAX_BODY) throw new Error('body too large');
    parts.push(chunk);
  }
  return Buffer.concat(parts).toString('utf8');
}

function parsePathsBody(type: string, body: string): { paths: string[]; expand: boolean } | undefined {
  if (/json/i.test(type)) {
    try {
      const v = JSON.parse(body) as { paths?: unknown; expand?: unknown };
      if (!Array.isArray(v.paths) || !v.paths.every((p) => typeof p === 'string')) return undefined;
      return { paths: v.paths, expand: v.expand === true || v.expand === 'true' };
    } catch {
      return undefined;
    }
  }
  const form = new URLSearchParams(body);
  return { paths: [...form.getAll('paths'), ...form.getAll('paths[]')], expand: /^true$/i.test(form.get('expand') ?? '') };
}

export async function pathsInfo(deps: HubDeps, r: HubRequest, route: RepoRoute): Promise<void> {
  const { repo } = route;
  if (r.req.method !== 'POST') return sendHubError(r, 405, { message: 'Use POST' }, { ...r.common, Allow: 'POST' });
  const rev = route.rest.join('/');
  const commit = deps.store.resolveRevision(repo, rev);
  if (!commit) return revisionNotFound(r, rev);
  let parsed: { paths: string[]; expand: boolean } | undefined;
  try {
    parsed = parsePathsBody(String(r.req.headers['content-type'] ?? ''), await readBody(r.req));
  } catch {
    parsed = undefined;
  }
  if (!parsed) return sendHubError(r, 400, { message: 'Expected {"paths": [...]} or paths=…' }, r.common);
  const wanted = new Set(parsed.paths.map((p) => p.replace(/\/+$/, '')));
  const entries = treeEntries(commit).filter((e) => wanted.has(e.path));
  const hostile = (deps.faults.hostile.get(repo.id) ?? []).filter((h) => wanted.has(h.path)).map((h) => ({ type: 'hostile' as const, ...h }));
  const body = await Promise.all([...entries, ...hostile].map((entry) => entryJson({ deps, repo, commit, entry, expand: parsed.expand })));
  sendJson(r, 200, body, r.common);
}

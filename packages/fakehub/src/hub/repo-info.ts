// GET /api/datasets/{id}[/revision/{rev}]: repo info at a revision (default branch).
import { createHash } from 'node:crypto';
import { sendJson } from '../http/respond.js';
import type { HubDeps, HubRequest, RepoRoute } from './context.js';
import { revisionNotFound } from './errors.js';

export async function repoInfo(deps: HubDeps, r: HubRequest, route: RepoRoute): Promise<void> {
  const { repo } = route;
  const rev = route.rest.length ? route.rest.join('/') : 'HEAD';
  const commit = deps.store.resolveRevision(repo, rev);
  if (!commit) return revisionNotFound(r, rev);
  const q = r.url.searchParams;
  const expand = [...q.getAll('expand'), ...q.getAll('expand[]')];
  const blobs = /^true$/i.test(q.get('blobs') ?? '');
  const wants = (field: string) => expand.length === 0 || expand.includes(field);
  const files = [...commit.files.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const info: Record<string, unknown> = {
    _id: createHash('sha1').update(`repo\0${repo.id}`).digest('hex').slice(0, 24),
    id: repo.id,
    author: repo.id.split('/')[0],
    sha: commit.sha,
    lastModified: commit.date,
    createdAt: repo.history[0].date,
    private: repo.private,
    gated: repo.gated,
    disabled: false,
    downloads: 0,
    likes: 0,
    tags: [],
    cardData: {},
    citation: '',
    description: '',
    usedStorage: files.reduce((n, f) => n + f.size, 0),
  };
  if (wants('siblings')) {
    const siblings: Record<string, unknown>[] = [];
    for (const f of files) {
      if (!blobs) {
        siblings.push({ rfilename: f.path });
        continue;
      }
      const m = await deps.meta.info(f);
      siblings.push({ rfilename: f.path, size: m.size, blobId: m.oid, ...(m.lfs ? { lfs: { sha256: m.lfs.oid, size: m.lfs.size, pointerSize: m.lfs.pointerSize } } : {}) });
    }
    for (const h of deps.faults.hostile.get(repo.id) ?? []) siblings.push({ rfilename: h.path, ...(blobs ? { size: h.size } : {}) });
    info.siblings = siblings;
  }
  const out = expand.length ? Object.fromEntries(Object.entries(info).filter(([k]) => k === '_id' || k === 'id' || expand.includes(k))) : info;
  sendJson(r, 200, out, r.common);
}

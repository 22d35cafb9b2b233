// HEAD|GET /datasets/{id}/resolve/{rev}/{path} (and /raw/): bytes for git files, a 302 to a
// signed CDN URL for LFS files, with the Hub's identity headers.
import { sendBody } from '../http/respond.js';
import { serveSource } from '../http/serve-source.js';
import { lfsPointer } from '../repo/lfs-pointer.js';
import { canDownload } from './access.js';
import type { HubDeps, HubRequest, RepoRoute } from './context.js';
import { entryNotFound, gatedRepo, revisionNotFound } from './errors.js';

function disposition(path: string): string {
  const name = path.slice(path.lastIndexOf('/') + 1);
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `inline; filename*=UTF-8''${encodeURIComponent(name)}; filename="${ascii}";`;
}

export async function resolve(deps: HubDeps, r: HubRequest, route: RepoRoute): Promise<void> {
  const { repo } = route;
  const split = deps.store.splitRevision(repo, route.rest);
  if (!split.commit) return revisionNotFound(r, split.revision);
  const commit = split.commit;
  if (!canDownload(r.caller, repo)) return gatedRepo(r, repo);
  const path = split.rest.join('/');
  const node = commit.files.get(path);
  if (!node) return entryNotFound(r, path, commit.sha);
  const info = await deps.meta.info(node);
  const common = { ...r.common, 'X-Repo-Commit': commit.sha, 'Content-Disposition': disposition(path) };
  if (node.lfs && !route.raw) {
    const location = deps.signer.sign({
      cdnUrl: deps.cdnUrl(),
      sha256: info.blob,
      repo: repo.id,
      path,
      expires: Math.floor(deps.now() / 1000) + deps.cdnUrlTtlSeconds,
    });
    return sendBody(
      r,
      302,
      {
        ...common,
        Location: location,
        ETag: `"${info.oid}"`,
        'X-Linked-Etag': `"${info.blob}"`,
        'X-Linked-Size': String(info.size),
        'Content-Type': 'text/plain; charset=utf-8',
      },
      `Found. Redirecting to ${location}`,
    );
  }
  const source = node.lfs ? { kind: 'text' as const, bytes: lfsPointer({ sha256: info.blob, size: node.size }) } : node.source;
  await serveSource({
    ...r,
    source,
    headers: { ...common, ETag: `"${info.oid}"`, 'Content-Type': node.compressible ? 'text/plain; charset=utf-8' : 'application/octet-stream' },
    faults: deps.faults,
    gzip: deps.gzip && (node.compressible || node.lfs),
    weakEtag: `W/"${info.oid}"`,
  });
}

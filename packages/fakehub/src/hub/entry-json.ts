// Tree / paths-info entries in the Hub's JSON shape.
import type { Commit, Repo } from '../repo/model.js';
import type { TreeEntry } from '../repo/tree-entries.js';
import type { HubDeps } from './context.js';
import { createHash } from 'node:crypto';

const dirLastCommit = new WeakMap<Commit, Map<string, string>>();

/** The newest commit that touched anything under each folder of `commit`. */
function folderCommits(repo: Repo, commit: Commit): Map<string, string> {
  let m = dirLastCommit.get(commit);
  if (m) return m;
  m = new Map();
  const index = (sha: string) => repo.commits.get(sha)?.index ?? -1;
  for (const node of commit.files.values()) {
    for (let i = node.path.indexOf('/'); i > 0; i = node.path.indexOf('/', i + 1)) {
      const dir = node.path.slice(0, i);
      const cur = m.get(dir);
      if (!cur || index(node.lastCommit) > index(cur)) m.set(dir, node.lastCommit);
    }
  }
  dirLastCommit.set(commit, m);
  return m;
}

function lastCommitJson(repo: Repo, sha: string) {
  const c = repo.commits.get(sha);
  return { id: sha, title: c?.title ?? '', date: c?.date ?? '' };
}

export type HostileEntry = { type: 'hostile'; path: string; size: number };

export async function entryJson(params: {
  deps: HubDeps;
  repo: Repo;
  commit: Commit;
  entry: TreeEntry | HostileEntry;
  expand: boolean;
}): Promise<Record<string, unknown>> {
  const { deps, repo, commit, entry, expand } = params;
  if (entry.type === 'hostile') {
    const oid = createHash('sha1').update(`hostile\0${entry.path}`).digest('hex');
    return { type: 'file', oid, size: entry.size, path: entry.path, ...(expand ? { lastCommit: lastCommitJson(repo, commit.sha) } : {}) };
  }
  if (entry.type === 'directory') {
    const out: Record<string, unknown> = { type: 'directory', oid: entry.oid, size: 0, path: entry.path };
    if (expand) out.lastCommit = lastCommitJson(repo, folderCommits(repo, commit).get(entry.path) ?? commit.sha);
    return out;
  }
  const info = await deps.meta.info(entry.node);
  const out: Record<string, unknown> = { type: 'file', oid: info.oid, size: info.size, path: entry.path };
  if (info.lfs) out.lfs = info.lfs;
  if (expand) {
    out.lastCommit = lastCommitJson(repo, entry.node.lastCommit);
    out.securityFileStatus = { status: 'safe', avScan: { status: 'safe' }, pickleImportScan: { status: 'unscanned' } };
  }
  return out;
}

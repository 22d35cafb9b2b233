// The tree of one commit as the Hub lists it: files plus the folders they imply, sorted by
// path (the pagination cursor is a path, so the order must be total and stable).
import { createHash } from 'node:crypto';
import type { Commit, FileNode } from './model.js';

export type TreeEntry =
  | { type: 'file'; path: string; node: FileNode }
  | { type: 'directory'; path: string; oid: string };

const cache = new WeakMap<Commit, TreeEntry[]>();

export function comparePaths(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function identity(node: FileNode): string {
  return node.source.kind === 'text'
    ? `t:${createHash('sha1').update(node.source.bytes).digest('hex')}:${node.lfs}`
    : `g:${node.source.seed}:${node.size}:${node.lfs}`;
}

/** Every entry of the commit, sorted. Folder oids are a stable digest of what they hold. */
export function treeEntries(commit: Commit): TreeEntry[] {
  const known = cache.get(commit);
  if (known) return known;
  const dirs = new Map<string, ReturnType<typeof createHash>>();
  const entries: TreeEntry[] = [];
  for (const node of commit.files.values()) {
    entries.push({ type: 'file', path: node.path, node });
    const id = identity(node);
    for (let i = node.path.indexOf('/'); i > 0; i = node.path.indexOf('/', i + 1)) {
      const dir = node.path.slice(0, i);
      let h = dirs.get(dir);
      if (!h) dirs.set(dir, (h = createHash('sha1').update(`tree\0${dir}\0`)));
      h.update(`${node.path}\0${id}\n`);
    }
  }
  for (const [path, h] of dirs) if (!commit.files.has(path)) entries.push({ type: 'directory', path, oid: h.digest('hex') });
  entries.sort((a, b) => comparePaths(a.path, b.path));
  cache.set(commit, entries);
  return entries;
}

/**
 * Entries under `dir` ('' = root): all descendants when recursive, else direct children.
 * Undefined when `dir` is not a folder of the commit.
 */
export function entriesUnder(params: { commit: Commit; dir: string; recursive: boolean }): TreeEntry[] | undefined {
  const all = treeEntries(params.commit);
  const dir = params.dir.replace(/\/+$/, '');
  if (dir && !all.some((e) => e.type === 'directory' && e.path === dir)) return undefined;
  const prefix = dir ? `${dir}/` : '';
  return all.filter((e) => {
    if (!e.path.startsWith(prefix)) return false;
    return params.recursive || !e.path.slice(prefix.length).includes('/');
  });
}

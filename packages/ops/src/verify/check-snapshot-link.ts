import { lstat, readlink } from 'node:fs/promises';
import path from 'node:path';

export type LinkProblem = 'missing' | 'not-a-link' | 'wrong-target' | null;

/**
 * Whether `snapshots/<commit>/<path>` is a symlink that resolves to `blobPath`. Relative links
 * are what the worker writes (and what keeps a cache relocatable); an absolute link to the
 * right blob is accepted too.
 */
export async function checkSnapshotLink(params: { linkPath: string; blobPath: string }): Promise<LinkProblem> {
  let st;
  try {
    st = await lstat(params.linkPath);
  } catch {
    return 'missing';
  }
  if (!st.isSymbolicLink()) return 'not-a-link';
  const target = await readlink(params.linkPath);
  return path.resolve(path.dirname(params.linkPath), target) === path.resolve(params.blobPath) ? null : 'wrong-target';
}

import { copyFile, link, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { IntegrityError, checkFile, type BlobExpectation } from '@hfhpc/core';

/** Where a blob lives under the cache root, in some repo folder other than `exceptRepoDir`. */
export async function findBlobElsewhere(params: { root: string; blob: string; size: number; exceptRepoDir: string; repoDirs?: string[] }): Promise<string | undefined> {
  const dirs = params.repoDirs ?? (await listRepoDirs(params.root));
  for (const dir of dirs) {
    if (dir === params.exceptRepoDir) continue;
    const candidate = join(dir, 'blobs', params.blob);
    const st = await stat(candidate).catch(() => undefined);
    // A complete blob is only ever renamed into place after verification; the size check
    // guards against a file someone else put there by hand.
    if (st?.isFile() && st.size === params.size) return candidate;
  }
  return undefined;
}

/** The repo folders (`datasets--org--name`, also models/spaces) directly under the cache root. */
export async function listRepoDirs(root: string): Promise<string[]> {
  const entries = await readdir(root, { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isDirectory() && /^(datasets|models|spaces)--/.test(e.name)).map((e) => join(root, e.name));
}

const LINK_UNSUPPORTED = new Set(['EXDEV', 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EMLINK', 'ENOSYS']);

/**
 * Put an existing verified blob at `target` without a download: a hard link (same bytes, no
 * space), else a copy through `<target>.incomplete` that is verified before the rename, since
 * a copy is a new set of bytes that could be short. An existing `target` is left alone.
 */
export async function reuseBlob(params: { source: string; target: string; expected: BlobExpectation; signal?: AbortSignal }): Promise<'linked' | 'copied' | 'present'> {
  const { source, target } = params;
  try {
    await link(source, target);
    return 'linked';
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (code === 'EEXIST') return 'present';
    if (!LINK_UNSUPPORTED.has(code)) throw err;
  }
  const partial = `${target}.incomplete`;
  await copyFile(source, partial);
  const bad = await checkFile({ path: partial, expected: params.expected, signal: params.signal });
  if (bad) {
    await rm(partial, { force: true });
    throw new IntegrityError(`copy of ${source} to ${target} does not match: ${bad}`, { hint: 'run hfhpc verify on the source dataset' });
  }
  await rename(partial, target);
  return 'copied';
}

// Pre-flight of a plan, before anything is written: the root (or the folder it will be created
// in) must be writable, and its filesystem must have room for the bytes still to fetch.
import { constants } from 'node:fs';
import { access as fsAccess, stat as fsStat, statfs as fsStatfs } from 'node:fs/promises';
import path from 'node:path';
import { PreflightError, formatBytes } from '@hfhpc/core';

export interface PreflightParams {
  /** Absolute download root; it may not exist yet. */
  root: string;
  /** Bytes the plan still has to download (each blob once). */
  bytesToFetch: number;
  /** Skip the free-space check (not the writability check). Default false. */
  force?: boolean;
  /** Default `fs.promises.statfs`. */
  statfs?: (p: string) => Promise<{ bavail: number | bigint; bsize: number | bigint }>;
  /** Default `fs.promises.access`. */
  access?: (p: string, mode: number) => Promise<void>;
  /** Default `fs.promises.stat`. */
  stat?: (p: string) => Promise<{ isDirectory(): boolean }>;
}

export interface PreflightResult {
  /** The folder checked: the root, or its nearest existing ancestor. */
  checkedPath: string;
  /** Bytes available to this user on that filesystem. */
  freeBytes: number;
  /** Whether free space was short but `force` let the plan go on. */
  forcedPastShortage: boolean;
}

/**
 * The root, or the nearest existing folder it will be created in, is writable: checked before
 * any network request, so an unusable root costs nothing. Returns the folder checked.
 */
export async function assertRootWritable(params: Pick<PreflightParams, 'root' | 'access' | 'stat'>): Promise<string> {
  const { root, access = fsAccess, stat = fsStat } = params;
  const checkedPath = await nearestExisting(root, stat);
  try {
    await access(checkedPath, constants.W_OK | constants.X_OK);
  } catch (err) {
    throw new PreflightError(`download root ${root} is not writable (checked ${checkedPath})`, {
      cause: err,
      hint: 'choose a --root (or HFHPC_ROOT) you can write to, or fix its permissions',
      context: { root, checkedPath },
    });
  }
  return checkedPath;
}

export async function preflight(params: PreflightParams): Promise<PreflightResult> {
  const { root, bytesToFetch, force = false, statfs = fsStatfs } = params;
  const checkedPath = await assertRootWritable(params);
  const fs = await statfs(checkedPath);
  const freeBytes = Number(BigInt(fs.bavail) * BigInt(fs.bsize));
  const short = freeBytes < bytesToFetch;
  if (short && !force) {
    throw new PreflightError(
      `not enough free space under ${root}: the plan still has ${formatBytes(bytesToFetch)} to fetch, the filesystem has ${formatBytes(freeBytes)} free`,
      {
        hint: 'free space or quota, choose another --root, narrow the manifest with include/exclude, or pass --force to plan anyway',
        context: { root, checkedPath, bytesToFetch, freeBytes },
      },
    );
  }
  return { checkedPath, freeBytes, forcedPastShortage: short };
}

async function nearestExisting(root: string, stat: NonNullable<PreflightParams['stat']>): Promise<string> {
  let p = path.resolve(root);
  for (;;) {
    try {
      const st = await stat(p);
      if (!st.isDirectory()) {
        throw new PreflightError(`download root ${root} cannot be created: ${p} is not a folder`, {
          hint: 'choose another --root',
          context: { root, path: p },
        });
      }
      return p;
    } catch (err) {
      if (err instanceof PreflightError) throw err;
      const parent = path.dirname(p);
      if (parent === p) throw err;
      p = parent;
    }
  }
}

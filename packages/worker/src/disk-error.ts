import { constants } from 'node:fs';
import { access, mkdir } from 'node:fs/promises';
import { DiskError, formatBytes } from '@hfhpc/core';

// Errors that mean "this filesystem will not take our bytes": every later write would fail
// the same way, so the task stops instead of failing file after file.
const DISK_CODES = new Set(['ENOSPC', 'EDQUOT', 'EROFS', 'EACCES']);

export function isDiskErrno(err: unknown): boolean {
  return DISK_CODES.has((err as NodeJS.ErrnoException | undefined)?.code ?? '');
}

/** A one-line DiskError naming the path and the space still needed, or undefined for other errors. */
export function toDiskError(err: unknown, params: { path: string; bytesNeeded: number }): DiskError | undefined {
  if (err instanceof DiskError) return err;
  if (!isDiskErrno(err)) return undefined;
  const code = (err as NodeJS.ErrnoException).code;
  const why =
    code === 'ENOSPC' || code === 'EDQUOT'
      ? `no space left (${code}) writing ${params.path}${params.bytesNeeded > 0 ? `; ${formatBytes(params.bytesNeeded)} still needed` : ''}`
      : `cannot write ${params.path} (${code}: ${code === 'EROFS' ? 'read-only filesystem' : 'permission denied'})`;
  return new DiskError(why, {
    cause: err,
    hint: 'free space or fix permissions under the root, then run again: partial files are kept and resumed',
    context: { path: params.path, bytesNeeded: params.bytesNeeded, code },
  });
}

/**
 * The disk-full error of a task, saying what the whole plan still needs (`planBytesLeft`, read
 * once the task stopped and flushed its progress) instead of the remainder of one blob: that is
 * the space to free before running again. Other errors are returned unchanged.
 */
export function withPlanBytesLeft(err: unknown, bytesLeft: () => number): unknown {
  const code = err instanceof DiskError ? err.context.code : undefined;
  if (!(err instanceof DiskError) || (code !== 'ENOSPC' && code !== 'EDQUOT')) return err;
  let left: number;
  try {
    left = bytesLeft();
  } catch {
    return err; // the database is unreadable: the original message still names the path
  }
  const path = String(err.context.path);
  return new DiskError(`no space left (${code}) writing ${path}; ${formatBytes(left)} still needed to finish the plan`, {
    cause: err.cause,
    hint: `free at least ${formatBytes(left)} under the root (or more room for other users), then run again: partial files are kept and resumed`,
    context: { ...err.context, bytesNeeded: left },
  });
}

/**
 * Fail before claiming anything when the root cannot take files (read-only mount, no
 * permission): later the same error would surface from a recursive mkdir, where Node may
 * report it as ENOENT.
 */
export async function assertWritableRoot(root: string): Promise<void> {
  await mkdir(root, { recursive: true }).catch(() => undefined);
  try {
    await access(root, constants.W_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw (
      toDiskError(err, { path: root, bytesNeeded: 0 }) ??
      new DiskError(`cannot write ${root} (${code})`, { cause: err, hint: 'create the root or point --root at a writable folder', context: { path: root, code } })
    );
  }
}

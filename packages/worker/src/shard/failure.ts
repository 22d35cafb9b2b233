import { AuthError, HfhpcError, HubError } from '@hfhpc/core';

/** Errors that concern the whole repo: every other file of it would fail the same way. */
export function isRepoWide(err: unknown): boolean {
  if (err instanceof AuthError) return true;
  return err instanceof HubError && (err.hubErrorCode === 'RepoNotFound' || err.hubErrorCode === 'RevisionNotFound');
}

/** The one line recorded for a failed file. */
export function reason(err: unknown): string {
  return err instanceof HfhpcError ? err.toUserString() : err instanceof Error ? err.message : String(err);
}

// A blob already at its final path: hfhpc renames a blob into place only after verifying it,
// but the root may be a cache other tools wrote (huggingface_hub checks sizes only), and
// `plan --force` asks for every blob to be checked again. Reading it once is cheaper than
// fetching it, and nothing unverified is ever taken as done.
import { rm } from 'node:fs/promises';
import { checkFile, type BlobExpectation, type Logger } from '@hfhpc/core';

export interface ExistingBlobParams {
  path: string;
  expected: BlobExpectation;
  /** hfhpc recorded this blob done before (any plan) and `plan --force` did not ask to recheck. */
  trusted: boolean;
  signal?: AbortSignal;
}

/** Why the blob at `path` cannot be used as it is (a hash or size mismatch), or undefined. */
export async function existingBlobProblem(params: ExistingBlobParams): Promise<string | undefined> {
  if (params.trusted) return undefined;
  return checkFile({ path: params.path, expected: params.expected, signal: params.signal });
}

/**
 * Whether the blob at `path` (of the expected size) can be used as it is. One that does not
 * hash to its name is removed, so the caller fetches it again.
 */
export async function keepExistingBlob(params: ExistingBlobParams & { log: Pick<Logger, 'warn'> }): Promise<boolean> {
  const problem = await existingBlobProblem(params);
  if (problem === undefined) return true;
  params.log.warn(`removing ${params.path}: ${problem}; fetching it again`);
  await rm(params.path, { force: true });
  return false;
}

// Deterministic defaults: seeds from names, commit shas from their content, so a config
// without explicit values still gives the same bytes and hashes on every run.
import { createHash } from 'node:crypto';

/** A 32-bit seed from a string. */
export function deriveSeed(params: { key: string }): number {
  return createHash('sha1').update(`seed\0${params.key}`).digest().readUInt32BE(0);
}

/** A 40-hex commit sha from the repo, the parent and whatever describes the change. */
export function deriveCommitSha(params: { repoId: string; parent: string | null; index: number; spec: unknown }): string {
  return createHash('sha1')
    .update(`fakehub-commit\0${params.repoId}\0${params.parent ?? ''}\0${params.index}\0${JSON.stringify(params.spec)}`)
    .digest('hex');
}

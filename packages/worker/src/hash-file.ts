import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';

/** What a blob must be: its size and the hash that names it. */
export interface BlobExpectation {
  size: number;
  /** LFS files: the sha256 of the content. */
  sha256?: string;
  /** Regular git files: the git blob sha1, sha1("blob <size>\0" + content). */
  gitSha1?: string;
}

/**
 * Hash a file the way its blob name is computed (sha256 for LFS, git blob sha1 otherwise) and
 * compare it to the expectation. Returns the reason it does not match, or undefined if it does.
 */
export async function checkFile(params: { path: string; expected: BlobExpectation; signal?: AbortSignal }): Promise<string | undefined> {
  const { expected } = params;
  const hash = createHash(expected.sha256 ? 'sha256' : 'sha1');
  if (!expected.sha256) hash.update(`blob ${expected.size}\0`);
  let size = 0;
  await pipeline(
    createReadStream(params.path, { highWaterMark: 1 << 20 }),
    async function (source: AsyncIterable<Buffer>) {
      for await (const chunk of source) {
        size += chunk.length;
        hash.update(chunk);
      }
    },
    { signal: params.signal },
  );
  if (size !== expected.size) return `size ${size} != expected ${expected.size}`;
  const digest = hash.digest('hex');
  const want = expected.sha256 ?? expected.gitSha1;
  if (want && digest !== want.toLowerCase()) return `${expected.sha256 ? 'sha256' : 'git sha1'} ${digest} != expected ${want}`;
  return undefined;
}

import type { BlobExpectation, ShardFile } from '@hfhpc/core';

/** Files with the same blob are one download; the others get a link (or the same blob). */
export interface BlobGroup {
  blob: string;
  size: number;
  expected: BlobExpectation;
  files: ShardFile[];
}

export function groupByBlob(files: ShardFile[]): BlobGroup[] {
  const groups = new Map<string, BlobGroup>();
  for (const f of files) {
    let g = groups.get(f.blob);
    if (!g) {
      g = { blob: f.blob, size: f.size, expected: f.lfsSha256 ? { size: f.size, sha256: f.lfsSha256 } : { size: f.size, gitSha1: f.oid }, files: [] };
      groups.set(f.blob, g);
    }
    g.files.push(f);
  }
  // Largest first: the long transfers start early and the shard's tail is short files.
  return [...groups.values()].sort((a, b) => b.size - a.size);
}

// Every file of a dataset at a pinned commit: the recursive tree listing, all pages, without
// `expand` (docs/hub-protocol.md §1: sizes and LFS sha256 come without it, expanded pages cost the Hub far
// more). Entries are untrusted: each is checked for shape and path safety before it is yielded.
import { HubError } from '../errors.js';
import { assertSafeRepoPath, repoPathProblem } from '../path-safety.js';
import { createHubFetch, type HubClientOptions } from './hub-fetch.js';

export interface ListRepoFilesParams extends HubClientOptions {
  repo: string;
  /** The pinned 40-hex commit (never a branch: pages would mix commits if it moved). */
  commit: string;
  /**
   * Called for each entry whose path fails the safety check, which is then skipped; without
   * it the first such entry throws `UnsafePathError`. The caller decides (include/exclude).
   */
  onUnsafePath?: (path: string, problem: string) => void;
  /** Called as each tree page arrives, with the pages and files (so far) of the listing. */
  onPage?: (progress: ListingProgress) => void;
}

export interface ListingProgress {
  pages: number;
  /** Files yielded so far (directories and unsafe paths not counted). */
  files: number;
}

/** One file of the listing. */
export interface HubFile {
  path: string;
  /** Content size in bytes. */
  size: number;
  /** Git blob sha1 (of the pointer file for LFS files). */
  oid: string;
  /** sha256 of the content for LFS files, else null. */
  lfsSha256: string | null;
}

const SHA1_RE = /^[0-9a-f]{40}$/;
const SHA256_RE = /^[0-9a-f]{64}$/;

/** Yields files (directories skipped); throws `UnsafePathError` or `HubError` on a bad entry. */
export async function* listRepoFiles(params: ListRepoFilesParams): AsyncGenerator<HubFile> {
  const { repo, commit, hubUrl } = params;
  if (!SHA1_RE.test(commit)) {
    throw new HubError(`refusing to list dataset ${repo} at ${JSON.stringify(commit)}: not a pinned commit sha`, {
      hint: 'this is a bug: resolve the revision first',
    });
  }
  // Loaded on first use: a worker process never lists, and the library costs start-up time and RSS.
  const { listFiles } = await import('@huggingface/hub');
  const hubFetch = createHubFetch(params, { repo, revision: commit, prefetchNext: true });
  const progress: ListingProgress = { pages: 0, files: 0 };
  // Every request listFiles makes is one tree page.
  const pageFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const res = await hubFetch(input, init);
    progress.pages++;
    params.onPage?.({ ...progress });
    return res;
  };
  const entries = listFiles({
    repo: { type: 'dataset', name: repo },
    revision: commit,
    recursive: true,
    expand: false,
    hubUrl,
    fetch: pageFetch,
  });
  try {
    for await (const entry of entries) {
      if (entry.type !== 'file') continue;
      const problem = params.onUnsafePath && typeof entry.path === 'string' ? repoPathProblem(entry.path) : undefined;
      if (problem) {
        params.onUnsafePath!(entry.path, problem);
        continue;
      }
      progress.files++;
      yield toHubFile(entry, repo);
    }
  } finally {
    // A listing abandoned midway (bad entry, caller stopped) leaves no page in flight.
    hubFetch.discardPrefetched();
  }
}

function toHubFile(entry: { path: unknown; size: unknown; oid?: unknown; lfs?: { oid?: unknown; size?: unknown } }, repo: string): HubFile {
  const path = assertSafeRepoPath(entry.path as string, { repo });
  const bad = (why: string): never => {
    throw new HubError(`malformed tree entry for ${JSON.stringify(path)} in dataset ${repo}: ${why}`, {
      context: { repo, path },
      hint: 'run again; if it persists, report it with the log',
    });
  };
  const { size, oid, lfs } = entry;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) bad(`size ${JSON.stringify(size)}`);
  if (typeof oid !== 'string' || !SHA1_RE.test(oid)) bad(`oid ${JSON.stringify(oid)}`);
  let lfsSha256: string | null = null;
  if (lfs) {
    if (typeof lfs.oid !== 'string' || !SHA256_RE.test(lfs.oid)) bad(`lfs.oid ${JSON.stringify(lfs.oid)}`);
    if (lfs.size !== undefined && lfs.size !== size) bad(`lfs.size ${JSON.stringify(lfs.size)} differs from size ${String(size)}`);
    lfsSha256 = lfs.oid as string;
  }
  return { path, size: size as number, oid: oid as string, lfsSha256 };
}

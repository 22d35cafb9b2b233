// Where things live in a Hugging Face hub cache (docs/hub-protocol.md §4), so that
// `HF_HUB_CACHE=<root> HF_HUB_OFFLINE=1` finds what hfhpc downloaded. Pure path arithmetic;
// every name that comes from the Hub (etag, commit, revision, file path) is validated here
// before it becomes part of a path.
import path from 'node:path';
import { UnsafePathError } from './errors.js';
import { repoIdProblem } from './allow-list.js';
import { assertSafeRepoPath, repoPathProblem } from './path-safety.js';

const COMMIT_RE = /^[0-9a-f]{40}$/;
// git blob sha1 (40 hex) for regular files, sha256 (64 hex) for LFS files.
const ETAG_RE = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

const TAG_RE = /^[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*$/;
const PARTIAL_RE = /^([0-9a-f]{40}|[0-9a-f]{64})(?:\.([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*))?\.incomplete$/;
const CLAIM_TAG_RE = /^p(\d+)s(\d+)f(\d+)-[0-9a-z]+$/;

const ASIDE_RE = /(?:^|\.)aside-[0-9a-f]+$/;
const RANGES_RE = /\.ranges$/;

export interface PartialName {
  /** The blob it becomes. */
  blob: string;
  /** Absent for the legacy shared name `<etag>.incomplete`. */
  tag?: string;
  /** The claim that writes it (`partialTag`). */
  claim?: { planId: number; index: number; fence: number };
  /** Moved aside by a takeover (`.aside-<random>`): its bytes were copied on, it is never resumed in place. */
  aside: boolean;
}

/**
 * A partial download's file name taken apart, or undefined when it is not one of hfhpc's
 * (another tool's partials in the same folder are theirs, never touched).
 */
export function parsePartialName(name: string): PartialName | undefined {
  const m = PARTIAL_RE.exec(name);
  if (!m) return undefined;
  const blob = m[1];
  const tag = m[2];
  if (tag === undefined) return { blob, aside: false };
  // A ranged download's resume record (`<partial>.ranges.incomplete`) belongs to the same claim.
  const own = tag.replace(RANGES_RE, '');
  const aside = ASIDE_RE.test(own);
  const claim = parsePartialTag(aside ? own.replace(ASIDE_RE, '') : own);
  if (!claim && !aside) return undefined;
  return { blob, tag, ...(claim ? { claim } : {}), aside };
}

/**
 * The tag of one claim's partial files: plan, shard index and fence (so `cleanup` can tell
 * whose it is) and a random part (fences start again in every plan, and a file left by a crash
 * must never be opened again as if it were new).
 */
export function partialTag(claim: { planId: number; index: number; fence: number }, random: string): string {
  return `p${claim.planId}s${claim.index}f${claim.fence}-${random}`;
}

/** The claim named by a `partialTag`, or undefined for other tags. */
export function parsePartialTag(tag: string): { planId: number; index: number; fence: number } | undefined {
  const m = CLAIM_TAG_RE.exec(tag);
  return m ? { planId: Number(m[1]), index: Number(m[2]), fence: Number(m[3]) } : undefined;
}

/** `W/"abc"` → `abc`: an ETag header value as a blob name (weak prefix and quotes removed). */
export function stripEtag(etag: string): string {
  return etag.trim().replace(/^W\//i, '').replace(/^"(.*)"$/, '$1');
}

/** Whether `rev` is a full 40-hex commit sha (then no `refs/` file is written for it). */
export function isCommitSha(rev: string): boolean {
  return COMMIT_RE.test(rev);
}

function bad(what: string, value: string, why: string, repo?: string): never {
  throw new UnsafePathError(`invalid ${what} ${JSON.stringify(value)}${repo ? ` for ${repo}` : ''}: ${why}`, {
    hint: 'the Hub answered with a value hfhpc will not use as a file name; report it',
    context: { repo, [what]: value },
  });
}

/** Why `rev` cannot be a revision (branch, tag, `refs/pr/1`, sha), or undefined when it can. */
export function revisionProblem(rev: unknown): string | undefined {
  if (typeof rev !== 'string') return `expected a string, got ${typeof rev}`;
  return repoPathProblem(rev);
}

/** `bigcode/the-stack` → `datasets--bigcode--the-stack` (repo id validated). */
export function repoFolderName(repo: string): string {
  const problem = repoIdProblem(repo);
  if (problem) bad('repo', repo, problem);
  return `datasets--${repo.split('/').join('--')}`;
}

export interface CacheLayout {
  /** `<root>/datasets--org--name` */
  repoDir: string;
  blobsDir: string;
  snapshotsDir: string;
  refsDir: string;
  treesDir: string;
  /** `blobs/<etag>`: the verified content. */
  blobPath(etag: string): string;
  /**
   * `blobs/<etag>.<tag>.incomplete`: one claim's partial download (`tag` from `partialTag`), a
   * file only that claim writes; without a tag the shared name of hfhpc before per-claim
   * partials (still resumed from, never written in place).
   */
  incompletePath(etag: string, tag?: string): string;
  /** `snapshots/<commit>` */
  snapshotDir(commit: string): string;
  /** `snapshots/<commit>/<path>`: where the symlink to the blob goes. */
  snapshotPath(commit: string, filePath: string): string;
  /** The relative symlink target from `snapshots/<commit>/<path>` to its blob: `../../blobs/<etag>`, one more `..` per folder. */
  blobLinkTarget(filePath: string, etag: string): string;
  /** `refs/<revision>` (a revision may contain `/`, e.g. `refs/pr/1` → `refs/refs/pr/1`). */
  refPath(revision: string): string;
  /** `trees/<commit>.json`: the file list of that commit. */
  treePath(commit: string): string;
}

/** The cache paths of `repo` under `root`. Throws `UnsafePathError` for a hostile repo, etag, commit, revision or path. */
export function cacheLayout(root: string, repo: string): CacheLayout {
  const repoDir = path.join(path.resolve(root), repoFolderName(repo));
  const blobsDir = path.join(repoDir, 'blobs');
  const snapshotsDir = path.join(repoDir, 'snapshots');
  const refsDir = path.join(repoDir, 'refs');
  const treesDir = path.join(repoDir, 'trees');
  const etagOk = (etag: string): string => (ETAG_RE.test(etag) ? etag : bad('etag', etag, 'expected 40 or 64 lowercase hex digits', repo));
  const commitOk = (commit: string): string => (COMMIT_RE.test(commit) ? commit : bad('commit', commit, 'expected 40 lowercase hex digits', repo));
  const pathOk = (p: string): string => assertSafeRepoPath(p, { repo });
  const tagOk = (tag: string): string => (TAG_RE.test(tag) ? tag : bad('partial tag', tag, 'expected letters, digits, `-` and `.`', repo));
  return {
    repoDir,
    blobsDir,
    snapshotsDir,
    refsDir,
    treesDir,
    blobPath: (etag) => path.join(blobsDir, etagOk(etag)),
    incompletePath: (etag, tag) => path.join(blobsDir, `${etagOk(etag)}${tag === undefined ? '' : `.${tagOk(tag)}`}.incomplete`),
    snapshotDir: (commit) => path.join(snapshotsDir, commitOk(commit)),
    snapshotPath: (commit, filePath) => path.join(snapshotsDir, commitOk(commit), pathOk(filePath)),
    blobLinkTarget: (filePath, etag) => {
      // From snapshots/<commit>/<dirs…>/ up to the repo folder: 2 levels plus one per folder.
      const depth = 2 + pathOk(filePath).split('/').length - 1;
      return `${'../'.repeat(depth)}blobs/${etagOk(etag)}`;
    },
    refPath: (revision) => {
      const problem = revisionProblem(revision);
      return problem ? bad('revision', revision, problem, repo) : path.join(refsDir, revision);
    },
    treePath: (commit) => path.join(treesDir, `${commitOk(commit)}.json`),
  };
}

// Step 2 of a plan, per dataset: pin the revision to a commit, refuse a gated repo we could
// not download, list every file at the commit and keep those the include/exclude globs select.
// Nothing is written here; any error aborts the whole plan before the store is touched.
import {
  AuthError,
  escapeControls,
  listRepoFiles,
  probeFileAccess,
  resolveRevision,
  type DatasetSpec,
  type HubClientOptions,
  type HubFile,
  type Logger,
  type ResolvedRevision,
  type UnsafePath,
  unsafePathsError,
} from '@hfhpc/core';
import { createPathFilter, createUnsafePathFilter } from './path-filter.js';

export interface CollectedDataset {
  spec: DatasetSpec;
  pinned: ResolvedRevision;
  /** Selected files, in listing order. */
  files: HubFile[];
  /** Every file of the commit, before include/exclude (for `trees/<commit>.json`). */
  all: HubFile[];
}

export interface CollectDatasetParams {
  spec: DatasetSpec;
  /** Hub URL, token, fetch and retry seams, passed to every request. */
  hub: HubClientOptions;
  logger?: Logger;
  /** While listing, a `listing …` line this often (pages and files so far). Default 5,000 ms. */
  listProgressMs?: number;
}

export async function collectDataset(params: CollectDatasetParams): Promise<CollectedDataset> {
  const { spec, hub, logger } = params;
  const pinned = await resolveRevision({ ...hub, repo: spec.repo, revision: spec.revision });
  logger?.info(`${spec.repo}: ${spec.revision} pinned to ${pinned.commit}${pinned.gated ? ` (gated: ${pinned.gated})` : ''}`);
  // Listings of gated repos work anonymously; only downloads fail. Fail now, not in 1,000 tasks.
  if (pinned.gated && !hub.accessToken) {
    throw new AuthError(`${spec.repo} is a gated dataset and no token was found`, {
      hint: `request access at ${hub.hubUrl}/datasets/${spec.repo}, then set HF_TOKEN (or run \`hf auth login\`) with that account`,
      context: { repo: spec.repo },
    });
  }
  const keep = createPathFilter({ include: spec.include, exclude: spec.exclude });
  // include/exclude come before the safety check: a hostile path they leave out does not stop
  // the plan (it is never written, nor put into trees/<commit>.json); one they select does.
  const keepUnsafe = createUnsafePathFilter({ include: spec.include, exclude: spec.exclude });
  const hostile: UnsafePath[] = [];
  const leftOut: string[] = [];
  const all: HubFile[] = [];
  const files: HubFile[] = [];
  let listed = { pages: 0, files: 0 };
  const ticker = setInterval(() => logger?.info(`${spec.repo}: listing, ${listed.pages} page(s) and ${listed.files} file(s) so far`), params.listProgressMs ?? 5000);
  try {
    const listing = listRepoFiles({
      ...hub,
      repo: spec.repo,
      commit: pinned.commit,
      onPage: (p) => (listed = p),
      onUnsafePath: (path, problem) => (keepUnsafe(path) ? hostile.push({ path, problem }) : leftOut.push(path)),
    });
    for await (const f of listing) {
      all.push(f);
      if (keep(f.path)) files.push(f);
    }
  } finally {
    clearInterval(ticker);
  }
  if (hostile.length > 0) throw unsafePathsError(spec.repo, hostile);
  if (leftOut.length > 0) {
    const shown = leftOut.slice(0, 5).map((p) => escapeControls(JSON.stringify(p))).join(', ');
    logger?.warn(`${spec.repo}: ${leftOut.length} unsafe path(s) left out by include/exclude: ${shown}${leftOut.length > 5 ? ', …' : ''}`);
  }
  logger?.info(`${spec.repo}: ${all.length} files listed in ${listed.pages} page(s), ${files.length} selected`);
  if (files.length === 0) logger?.warn(`${spec.repo}: no file matches include/exclude; check the globs`);
  if (pinned.gated && files.length > 0) {
    await probeFileAccess({ ...hub, repo: spec.repo, commit: pinned.commit, path: files[0].path });
  }
  return { spec, pinned, files, all };
}

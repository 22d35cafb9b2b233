// Step 2 of a plan, per dataset: pin the revision to a commit, refuse a gated repo we could
// not download, list every file at the commit and keep those the include/exclude globs select.
// Nothing is written here; any error aborts the whole plan before the store is touched.
import {
  AuthError,
  listRepoFiles,
  probeFileAccess,
  resolveRevision,
  type DatasetSpec,
  type HubClientOptions,
  type HubFile,
  type Logger,
  type ResolvedRevision,
} from '@hfhpc/core';
import { createPathFilter } from './path-filter.js';

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
  const all: HubFile[] = [];
  const files: HubFile[] = [];
  for await (const f of listRepoFiles({ ...hub, repo: spec.repo, commit: pinned.commit })) {
    all.push(f);
    if (keep(f.path)) files.push(f);
  }
  logger?.info(`${spec.repo}: ${all.length} files listed, ${files.length} selected`);
  if (files.length === 0) logger?.warn(`${spec.repo}: no file matches include/exclude; check the globs`);
  if (pinned.gated && files.length > 0) {
    await probeFileAccess({ ...hub, repo: spec.repo, commit: pinned.commit, path: files[0].path });
  }
  return { spec, pinned, files, all };
}

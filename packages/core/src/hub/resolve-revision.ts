// Pin a revision: ask the Hub once which commit a branch or tag points to now
// (`/api/datasets/{repo}/revision/{rev}`, docs/hub-protocol.md §1), and whether the repo is gated or
// private. Everything later (tree pages, resolves) uses the commit, so a branch that moves
// during the run changes nothing.
import { HubError } from '../errors.js';
import { createHubFetch, type HubClientOptions } from './hub-fetch.js';

export type GatedMode = false | 'auto' | 'manual';

export interface ResolveRevisionParams extends HubClientOptions {
  /** `org/name`, already checked against the allow-list. */
  repo: string;
  /** Branch, tag or commit sha. Default `main`. */
  revision?: string;
}

export interface ResolvedRevision {
  repo: string;
  revision: string;
  /** The 40-hex commit sha the revision points to now. */
  commit: string;
  /** Whether file contents need an accepted access request (listings never do). */
  gated: GatedMode;
  private: boolean;
}

const COMMIT_RE = /^[0-9a-f]{40}$/;

export async function resolveRevision(params: ResolveRevisionParams): Promise<ResolvedRevision> {
  const { repo, revision = 'main', hubUrl } = params;
  // Loaded on first use (see listRepoFiles).
  const { datasetInfo } = await import('@huggingface/hub');
  const info = await datasetInfo({
    name: repo,
    revision,
    additionalFields: ['sha'],
    hubUrl,
    fetch: createHubFetch(params, { repo, revision }),
  });
  const commit: unknown = info.sha;
  if (typeof commit !== 'string' || !COMMIT_RE.test(commit)) {
    throw new HubError(`the Hub gave no valid commit sha for dataset ${repo} at ${revision} (got ${JSON.stringify(commit)})`, {
      context: { repo, revision },
      hint: 'run again; if it persists, report it with the log',
    });
  }
  const gated: GatedMode = info.gated === 'auto' || info.gated === 'manual' ? info.gated : false;
  return { repo, revision, commit, gated, private: info.private === true };
}

// One HEAD on a file's resolve URL (without following the redirect to the CDN), to learn at
// plan time whether this token may download a gated dataset: a 403 GatedRepo now is better
// than a thousand array tasks failing on it later. Costs one request of the resolver budget.
import { createHubFetch, type HubClientOptions } from './hub-fetch.js';

export interface ProbeFileAccessParams extends HubClientOptions {
  repo: string;
  commit: string;
  /** A file path of the repo (already checked for safety). */
  path: string;
}

/** Resolves when the file may be downloaded; throws core's typed error (AuthError for gated) when not. */
export async function probeFileAccess(params: ProbeFileAccessParams): Promise<void> {
  const { repo, commit, path, hubUrl } = params;
  const encodedPath = path.split('/').map(encodeURIComponent).join('/');
  const url = `${hubUrl}/datasets/${repo}/resolve/${encodeURIComponent(commit)}/${encodedPath}`;
  const hubFetch = createHubFetch(params, { repo, revision: commit, path });
  // Any 2xx or 3xx means access is granted; failures are thrown by the hub fetch.
  const res = await hubFetch(url, { method: 'HEAD', redirect: 'manual' });
  await res.body?.cancel();
}

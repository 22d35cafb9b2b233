// GET /api/datasets[?limit=N]: the datasets the caller can see, newest first on the Hub; here in
// config order, with the fields a health check or a client looks at (id, private, gated).
import { sendJson } from '../http/respond.js';
import type { Repo } from '../repo/model.js';
import { canSee } from './access.js';
import type { HubRequest } from './context.js';

export function listDatasets(r: HubRequest, repos: readonly Repo[]): void {
  const limit = Number(r.url.searchParams.get('limit') ?? '') || 1000;
  const visible = repos.filter((repo) => canSee(r.caller, repo)).slice(0, Math.max(0, limit));
  sendJson(r, 200, visible.map((repo) => ({ _id: repo.id, id: repo.id, private: repo.private, gated: repo.gated })), r.common);
}

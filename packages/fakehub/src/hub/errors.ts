// The Hub's error answers (docs/hub-protocol.md §2), in one place.
import { sendHubError } from '../http/respond.js';
import type { Repo } from '../repo/model.js';
import type { HubRequest } from './context.js';

function send(r: HubRequest, status: number, code: string | undefined, message: string, extra: Record<string, string> = {}): void {
  sendHubError(r, status, { code, message }, { ...r.common, ...extra });
}

/** Missing, or private without access: 401 without a token, 404 with a valid one. */
export function repoNotFound(r: HubRequest, id: string): void {
  send(r, r.caller.kind === 'user' ? 404 : 401, 'RepoNotFound', `Repository not found: datasets/${id}. If the repo is private, make sure you are authenticated.`);
}

export function revisionNotFound(r: HubRequest, rev: string): void {
  send(r, 404, 'RevisionNotFound', `Invalid rev id: ${rev}`);
}

export function entryNotFound(r: HubRequest, path: string, commit?: string): void {
  send(r, 404, 'EntryNotFound', `Entry not found: ${path}`, commit ? { 'X-Repo-Commit': commit } : {});
}

/** Gated file without access: 401 anonymous, 403 for a valid token not on the list. */
export function gatedRepo(r: HubRequest, repo: Repo): void {
  if (r.caller.kind === 'user') {
    send(r, 403, 'GatedRepo', `Access to dataset ${repo.id} is restricted and you are not in the authorized list. Visit the dataset page to ask for access.`);
  } else {
    send(r, 401, 'GatedRepo', `Access to dataset ${repo.id} is restricted. You must have access to it and be authenticated to access it. Please log in.`);
  }
}

export function invalidCredentials(r: HubRequest): void {
  send(r, 401, undefined, 'Invalid credentials in Authorization header');
}

export function notFoundPage(r: HubRequest): void {
  send(r, 404, undefined, 'Sorry, we can\'t find the page you are looking for.');
}

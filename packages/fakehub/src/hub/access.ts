// Who is asking (from `Authorization: Bearer …`) and what they may see or download.
import type { Repo } from '../repo/model.js';
import type { TokenSpec } from '../types.js';

export type Caller =
  | { kind: 'anonymous' }
  | { kind: 'invalid' }
  | { kind: 'user'; token: TokenSpec };

export function identify(params: { authorization: string | undefined; tokens: Map<string, TokenSpec> }): Caller {
  const { authorization } = params;
  if (!authorization) return { kind: 'anonymous' };
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  const token = m ? params.tokens.get(m[1]) : undefined;
  return token ? { kind: 'user', token } : { kind: 'invalid' };
}

function owns(token: TokenSpec, repo: Repo): boolean {
  const org = repo.id.split('/')[0];
  return token.user === org || (token.orgs ?? []).includes(org);
}

function listed(list: string[] | undefined, repo: Repo): boolean {
  return (list ?? []).some((x) => x === '*' || x === repo.id);
}

/** Private repos are visible to their owner/org members and to tokens listing them. */
export function canSee(caller: Caller, repo: Repo): boolean {
  if (!repo.private) return true;
  return caller.kind === 'user' && (owns(caller.token, repo) || listed(caller.token.canAccessPrivate, repo));
}

/** Gated repos' files: owner/org members and tokens on the access list. */
export function canDownload(caller: Caller, repo: Repo): boolean {
  if (!repo.gated) return true;
  return caller.kind === 'user' && (owns(caller.token, repo) || listed(caller.token.canAccessGated, repo));
}

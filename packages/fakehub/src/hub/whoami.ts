// GET /api/whoami-v2: the token's account.
import { createHash } from 'node:crypto';
import { sendHubError, sendJson } from '../http/respond.js';
import type { HubRequest } from './context.js';

const id = (s: string) => createHash('sha1').update(s).digest('hex').slice(0, 24);

export function whoami(r: HubRequest): void {
  if (r.caller.kind !== 'user') {
    return sendHubError(r, 401, { message: 'Invalid credentials in Authorization header' }, r.common);
  }
  const t = r.caller.token;
  sendJson(
    r,
    200,
    {
      type: 'user',
      id: id(`user\0${t.user}`),
      name: t.user,
      fullname: t.user,
      email: `${t.user}@example.invalid`,
      emailVerified: true,
      canPay: false,
      isPro: false,
      periodEnd: null,
      avatarUrl: '',
      orgs: (t.orgs ?? []).map((o) => ({ type: 'org', id: id(`org\0${o}`), name: o, fullname: o, roleInOrg: 'read' })),
      auth: { type: 'access_token', accessToken: { displayName: 'fakehub', role: 'read', createdAt: '2024-01-01T00:00:00.000Z' } },
    },
    r.common,
  );
}

// The Hub listener's request pipeline: log → route → repo lookup → faults (slow start, 429,
// 5xx) → rate-limit headers → token → rename redirect / visibility → endpoint handler →
// branch-move triggers.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FaultTarget, RateLimitFault, ServerErrorFault, SlowFirstByteFault, ActiveFault } from '../faults/fault-set.js';
import { newRecord } from '../http/new-record.js';
import { rateLimitHeaders, type RateLimiter } from '../http/rate-limiter.js';
import { sendBody, sendHubError } from '../http/respond.js';
import { sleepUnlessClosed } from '../http/wait.js';
import type { FakeHubStats, RequestRecord, TokenSpec } from '../types.js';
import { canSee, identify } from './access.js';
import { listDatasets } from './list-datasets.js';
import type { HubDeps, HubRequest, RepoRoute } from './context.js';
import { invalidCredentials, notFoundPage, repoNotFound } from './errors.js';
import { parseRoute } from './parse-route.js';
import { pathsInfo } from './paths-info.js';
import { repoInfo } from './repo-info.js';
import { resolve } from './resolve.js';
import { tree } from './tree.js';
import { whoami } from './whoami.js';

export interface HubHandlerParams {
  deps: HubDeps;
  limiter: RateLimiter;
  /** Put `RateLimit` / `RateLimit-Policy` on answers (false: a 429 carries `Retry-After` only). */
  rateLimitHeaders: boolean;
  /** Counters this handler adds to. */
  stats: FakeHubStats;
  tokens: Map<string, TokenSpec>;
  /** Where records go (the FakeHub's `requests`), or undefined to keep none. */
  log: () => RequestRecord[] | undefined;
  /** Called once the answer is finished or the connection closed. */
  onResponse?: (record: RequestRecord) => void;
  /** Called with unexpected errors (a fakehub bug): the request gets a 500. */
  onError: (err: unknown) => void;
}

function retryAfterValue(f: ActiveFault<RateLimitFault>, now: number): { seconds: number; header?: string } {
  const o = f.options;
  const seconds = f.until !== undefined ? Math.max(1, Math.ceil((f.until - now) / 1000)) : (o.retryAfterSeconds ?? 1);
  const format = o.retryAfterFormat ?? 'seconds';
  if (format === 'none') return { seconds };
  return { seconds, header: format === 'http-date' ? new Date(now + seconds * 1000).toUTCString() : String(seconds) };
}

export function createHubHandler(p: HubHandlerParams): (req: IncomingMessage, res: ServerResponse) => void {
  const { deps } = p;
  return (req, res) => {
    const record = newRecord({ req, host: 'hub', at: deps.now() });
    p.log()?.push(record);
    res.once('close', () => {
      p.stats.hubRequests++;
      if (record.endpoint === 'resolve') {
        if (record.status === 429) p.stats.resolvesLimited++;
        else p.stats.resolvesServed++;
      }
      p.onResponse?.(record);
    });
    const seen: { target?: FaultTarget } = {};
    handle(p, req, res, record, seen)
      .then(() => moveBranchesAfter(deps, seen.target))
      .catch((err: unknown) => {
        p.onError(err);
        if (!res.headersSent) {
          record.status = 500;
          res.writeHead(500, { 'Content-Type': 'application/json' }).end(JSON.stringify({ error: 'fakehub internal error' }));
        } else res.destroy();
      });
  };
}

async function handle(p: HubHandlerParams, req: IncomingMessage, res: ServerResponse, record: RequestRecord, seen: { target?: FaultTarget }): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://fakehub.invalid');
  const caller = identify({ authorization: req.headers.authorization, tokens: p.tokens });
  const method = (req.method ?? 'GET').toUpperCase();
  const routed = routeRequest(p.deps, url, method);
  const { target } = routed;
  seen.target = target;
  record.endpoint = target.endpoint;
  record.repo = target.repo;
  if (target.endpoint === 'resolve') record.filePath = target.path;

  const r: HubRequest = { req, res, record, url, caller, target, common: {}, head: method === 'HEAD' };
  if (await answeredByFaultOrLimit(p, r)) return;
  return dispatch(p.deps, r, routed);
}

interface Routed {
  route: ReturnType<typeof parseRoute>;
  target: FaultTarget;
  repoRoute?: RepoRoute;
  renamedFrom?: string;
}

/** The endpoint, and the repo (after renames) and file path the request is about. */
function routeRequest(deps: HubDeps, url: URL, method: string): Routed {
  const route = parseRoute(url.pathname);
  const target: FaultTarget = { host: 'hub', endpoint: route?.endpoint ?? 'other', method };
  if (!route || !('repoId' in route)) return { route, target };
  const found = deps.store.lookup(route.repoId);
  if (!found) {
    target.repo = route.repoId;
    return { route, target };
  }
  target.repo = found.repo.id;
  if (route.endpoint === 'resolve' || route.endpoint === 'tree') {
    const split = deps.store.splitRevision(found.repo, route.rest);
    if (split.rest.length) target.path = split.rest.join('/');
  }
  return { route, target, repoRoute: { repo: found.repo, rest: route.rest, raw: route.raw }, renamedFrom: found.renamedFrom };
}

/** Slow first byte, then a 429 (fault or spent budget) or a 5xx fault; true when answered. */
async function answeredByFaultOrLimit(p: HubHandlerParams, r: HubRequest): Promise<boolean> {
  const { deps } = p;
  const { target, record, caller, req, res } = r;
  const slow = deps.faults.take<SlowFirstByteFault>('slow-first-byte', target);
  if (slow) {
    record.faults.push('slow-first-byte');
    await sleepUnlessClosed(slow.options.delayMs, res);
    if (res.destroyed) return true;
  }
  const bucket = target.endpoint === 'resolve' ? 'resolvers' : 'api';
  const who = caller.kind === 'user' ? `token:${caller.token.token}` : `anon:${req.socket.remoteAddress}`;
  const state = p.limiter.take({ bucket, who, anonymous: caller.kind !== 'user' });
  const headersFor = (s: Parameters<typeof rateLimitHeaders>[0]): Record<string, string> => (p.rateLimitHeaders ? rateLimitHeaders(s) : {});
  r.common = headersFor(state);

  const limited = deps.faults.take<RateLimitFault>('rate-limit', target);
  if (limited || (p.limiter.enforces(bucket) && state.exceeded)) {
    const now = deps.now();
    const ra = limited ? retryAfterValue(limited, now) : { seconds: state.resetSeconds, header: String(state.resetSeconds) };
    const resetSeconds = limited?.options.resetSeconds ?? ra.seconds;
    if (limited) record.faults.push('rate-limit');
    const headers: Record<string, string> = headersFor({ ...state, remaining: 0, resetSeconds });
    if (ra.header) headers['Retry-After'] = ra.header;
    sendHubError(r, 429, { message: 'You have exceeded our rate limit. Retry later.' }, headers);
    return true;
  }
  const failing = deps.faults.take<ServerErrorFault>('server-error', target);
  if (failing) {
    record.faults.push('server-error');
    const status = failing.options.status ?? 503;
    const headers: Record<string, string> = { ...r.common };
    if (failing.options.retryAfterSeconds !== undefined) headers['Retry-After'] = String(failing.options.retryAfterSeconds);
    sendHubError(r, status, { message: status === 503 ? 'Service Unavailable' : `Server error ${status}` }, headers);
    return true;
  }
  return false;
}

/** Token, route, visibility and renames checked, the endpoint's handler answers. */
function dispatch(deps: HubDeps, r: HubRequest, { route, repoRoute, renamedFrom }: Routed): void | Promise<void> {
  const { caller, url } = r;
  if (caller.kind === 'invalid') return invalidCredentials(r);
  if (!route) return sendHubError(r, 400, { message: 'Malformed URL' }, r.common);
  if (route.endpoint === 'whoami') return whoami(r);
  if (route.endpoint === 'list-datasets') return listDatasets(r, deps.store.repos);
  if (route.endpoint === 'other') return notFoundPage(r);
  if (!repoRoute || !canSee(caller, repoRoute.repo)) return repoNotFound(r, route.repoId);
  if (renamedFrom) {
    // Relative, same path under the new id: clients keep the token (same origin).
    const raw = url.pathname.split('/');
    raw.splice(route.idAt + 1, 2, ...repoRoute.repo.id.split('/').map(encodeURIComponent));
    const location = `${raw.join('/')}${url.search}`;
    return sendBody(r, 307, { ...r.common, Location: location, 'Content-Type': 'text/plain; charset=utf-8' }, `Temporary Redirect. Redirecting to ${location}`);
  }
  if (route.endpoint === 'repo-info') return repoInfo(deps, r, repoRoute);
  if (route.endpoint === 'tree') return tree(deps, r, repoRoute);
  if (route.endpoint === 'paths-info') return pathsInfo(deps, r, repoRoute);
  return resolve(deps, r, repoRoute);
}

/** Branch moves a fault set to happen after this many answers. */
function moveBranchesAfter(deps: HubDeps, target: FaultTarget | undefined): void {
  if (!target) return;
  for (const f of deps.faults.moveTriggers(target)) {
    f.seen++;
    if (f.seen < (f.options.afterRequests ?? 1) || !f.consume()) continue;
    const repo = deps.store.get(f.options.repo);
    deps.store.moveBranch(repo.id, f.options.branch ?? repo.defaultBranch, f.options.commit ?? {});
  }
}

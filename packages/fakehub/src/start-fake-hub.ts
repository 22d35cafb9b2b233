// startFakeHub: two loopback listeners (Hub and CDN) over repos built from a config.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createCdnHandler } from './cdn/cdn-handler.js';
import { CdnSigner } from './cdn/cdn-signer.js';
import { loadConfig } from './config/load-config.js';
import { readContent } from './content/content-source.js';
import { HashCache } from './content/hash-cache.js';
import { FaultSet } from './faults/fault-set.js';
import { RateLimiter } from './http/rate-limiter.js';
import { createHubHandler } from './hub/hub-handler.js';
import { buildRepos } from './repo/build-repos.js';
import { FileMeta } from './repo/file-meta.js';
import { RepoStore } from './repo/repo-store.js';
import type { CommitSpec, FakeHubConfig, FakeHubStats, FileInfo, RateLimitOptions, RequestRecord, ResolveBudget, TokenSpec } from './types.js';

export interface FakeHubOptions {
  /** The config object, or the path of a YAML/JSON file. */
  config: FakeHubConfig | string;
  /** Listen address (default 127.0.0.1). */
  host?: string;
  /** Hub port (default 0: chosen by the OS). */
  port?: number;
  /** CDN port (default 0: chosen by the OS). */
  cdnPort?: number;
  /** Tree entries per page (default 1000). */
  pageSize?: number;
  /** Tree entries per page with expand=true (default 50). */
  expandPageSize?: number;
  /**
   * Shorthand for one more accepted token with access to every gated and private repo
   * (user `fakehub-user`). Use `config.tokens` for anything finer.
   */
  token?: string;
  /** Clock, ms since the epoch (default Date.now): rate-limit windows, CDN expiry, record times. */
  now?: () => number;
  /** Lifetime of signed CDN URLs in seconds (default 3600). */
  cdnUrlTtlSeconds?: number;
  /** Rate-limit budgets and whether they are enforced (default: counted, not enforced). */
  rateLimits?: RateLimitOptions;
  /** A fixed-window budget on resolve requests, answered 429 + `Retry-After` once spent (default none). */
  resolveBudget?: ResolveBudget;
  /** Send `RateLimit` / `RateLimit-Policy` on Hub answers (default true; false: a 429 has `Retry-After` only). */
  rateLimitHeaders?: boolean;
  /** Cap each CDN response body (each connection's transfer) at this many bytes per second (default none). */
  connRate?: number;
  /** Gzip compressible git files when the client accepts gzip (default true). */
  gzip?: boolean;
  /** `X-Cache` header of CDN answers (default "Miss from cloudfront"); false sends none. */
  cdnXCache?: string | false;
  /** The CDN answers 400 when it receives an Authorization header (default false: it only records it). */
  cdnRejectAuthorization?: boolean;
  /** Keep the request log (default true). */
  recordRequests?: boolean;
  /** Per-machine hash cache folder (default `<tmpdir>/hfhpc-fakehub-hashes`); false: memory only. */
  hashCacheDir?: string | false;
  /** Hash every file before listening (default false: hashes are computed when first needed). */
  prehash?: boolean;
  /** Called with each request's record once its answer is finished or its connection closed. */
  onResponse?: (record: RequestRecord) => void;
  /** Unexpected errors (fakehub bugs); default: printed to stderr. */
  onError?: (err: unknown) => void;
}

export interface RepoSummary {
  id: string;
  gated: false | 'auto' | 'manual';
  private: boolean;
}

export interface FakeHub {
  /** e.g. `http://127.0.0.1:41234` (no trailing slash). */
  readonly hubUrl: string;
  readonly cdnUrl: string;
  /** Every request to either listener, oldest first; the same array for the hub's lifetime. */
  readonly requests: RequestRecord[];
  resetRequests(): void;
  /** Fault knobs: see FaultSet. */
  readonly faults: FaultSet;
  /** A copy of the counters (requests, resolves served and answered 429, CDN bytes). */
  stats(): FakeHubStats;
  /** Repos as the ready file lists them. */
  repos(): RepoSummary[];
  /** The commit sha a branch, `HEAD` or sha names now (default: the default branch). */
  commitSha(repo: string, revision?: string): string;
  /** Commit `commit` on top of `branch` (new branches start at the default branch); returns its sha. */
  moveBranch(repo: string, branch: string, commit?: CommitSpec): string;
  /** File paths at a revision, sorted. */
  files(repo: string, revision?: string): string[];
  /** Size and hashes of one file (hashes big files without blocking the server). */
  fileInfo(repo: string, path: string, revision?: string): Promise<FileInfo>;
  /** Same, synchronously (fine for small files). */
  fileInfoSync(repo: string, path: string, revision?: string): FileInfo;
  /** A copy of a file's bytes [start, end) (default: all). */
  readFile(repo: string, path: string, options?: { revision?: string; start?: number; end?: number }): Buffer;
  /** Close both listeners and every open connection. */
  stop(): Promise<void>;
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

function checkOptions(options: FakeHubOptions): void {
  const rate = options.connRate;
  if (rate !== undefined && !(Number.isFinite(rate) && rate > 0)) throw new Error(`fakehub: connRate must be a positive number of bytes per second, got ${rate}`);
  const b = options.resolveBudget;
  if (b && !(Number.isSafeInteger(b.limit) && b.limit >= 0 && Number.isSafeInteger(b.windowSeconds) && b.windowSeconds >= 1)) {
    throw new Error(`fakehub: resolveBudget needs a whole limit >= 0 and windowSeconds >= 1, got ${JSON.stringify(b)}`);
  }
}

export async function startFakeHub(options: FakeHubOptions): Promise<FakeHub> {
  checkOptions(options);
  const parts = await loadParts(options);
  const host = options.host ?? '127.0.0.1';
  const urls = { hub: '', cdn: '' };
  const { hubServer, cdnServer } = createServers(options, parts, urls);
  const hubPort = await listen(hubServer, options.port ?? 0, host);
  let cdnPort: number;
  try {
    cdnPort = await listen(cdnServer, options.cdnPort ?? 0, host);
  } catch (err) {
    await close(hubServer);
    throw err;
  }
  const urlHost = host.includes(':') ? `[${host}]` : host;
  urls.hub = `http://${urlHost}:${hubPort}`;
  urls.cdn = `http://${urlHost}:${cdnPort}`;
  let stopped: Promise<void> | undefined;
  return fakeHubApi(parts, urls, () => (stopped ??= Promise.all([close(hubServer), close(cdnServer)]).then(() => undefined)));
}

/** What both listeners share: the repos, tokens, file metadata, faults, counters and the request log. */
interface FakeHubParts {
  store: RepoStore;
  tokens: Map<string, TokenSpec>;
  meta: FileMeta;
  faults: FaultSet;
  signer: CdnSigner;
  now: () => number;
  requests: RequestRecord[];
  stats: FakeHubStats;
}

async function loadParts(options: FakeHubOptions): Promise<FakeHubParts> {
  const { config, source } = loadConfig({ config: options.config });
  const store = new RepoStore(buildRepos({ specs: config.repos, source }));
  const tokens = new Map<string, TokenSpec>((config.tokens ?? []).map((t) => [t.token, t]));
  if (options.token) tokens.set(options.token, { token: options.token, user: 'fakehub-user', canAccessGated: ['*'], canAccessPrivate: ['*'] });
  const now = options.now ?? Date.now;
  const meta = new FileMeta(new HashCache({ dir: options.hashCacheDir }));
  if (options.prehash) {
    for (const repo of store.repos) for (const c of repo.history) for (const f of c.files.values()) await meta.info(f);
  }
  const stats: FakeHubStats = { hubRequests: 0, cdnRequests: 0, resolvesServed: 0, resolvesLimited: 0, cdnBytesSent: 0 };
  return { store, tokens, meta, faults: new FaultSet(now), signer: new CdnSigner(), now, requests: [], stats };
}

function createServers(options: FakeHubOptions, parts: FakeHubParts, urls: { hub: string; cdn: string }): { hubServer: Server; cdnServer: Server } {
  const { store, meta, faults, signer, now, stats, tokens, requests } = parts;
  const log = () => (options.recordRequests === false ? undefined : requests);
  const onResponse = options.onResponse;
  const onError = options.onError ?? ((err: unknown) => process.stderr.write(`fakehub: internal error: ${(err as Error)?.stack ?? String(err)}\n`));
  const hubServer = createServer(
    createHubHandler({
      deps: {
        store,
        meta,
        faults,
        signer,
        now,
        hubUrl: () => urls.hub,
        cdnUrl: () => urls.cdn,
        pageSize: options.pageSize ?? 1000,
        expandPageSize: options.expandPageSize ?? 50,
        gzip: options.gzip ?? true,
        cdnUrlTtlSeconds: options.cdnUrlTtlSeconds ?? 3600,
      },
      limiter: new RateLimiter(options.rateLimits, now, options.resolveBudget),
      // Either switch turns the headers off (`rateLimitHeaders: false` or `rateLimits.headers: false`).
      rateLimitHeaders: (options.rateLimitHeaders ?? true) && (options.rateLimits?.headers ?? true),
      stats,
      tokens,
      log,
      onResponse,
      onError,
    }),
  );
  const cdnServer = createServer(
    createCdnHandler({
      signer,
      faults,
      objects: meta.lfsObjects,
      now,
      log,
      xCache: options.cdnXCache ?? 'Miss from cloudfront',
      rejectAuthorization: options.cdnRejectAuthorization ?? false,
      connRate: options.connRate,
      stats,
      onResponse,
      onError,
    }),
  );
  return { hubServer, cdnServer };
}

function fakeHubApi(parts: FakeHubParts, urls: { hub: string; cdn: string }, stop: () => Promise<void>): FakeHub {
  const { store, meta, faults, requests, stats } = parts;
  const commitOf = (repo: string, revision?: string) => {
    const r = store.get(repo);
    const c = store.resolveRevision(r, revision ?? r.defaultBranch);
    if (!c) throw new Error(`fakehub: ${repo} has no revision ${revision}`);
    return c;
  };
  const withPath = (path: string, node: { lastCommit: string }, m: Omit<FileInfo, 'path' | 'lastCommit'>): FileInfo => ({ path, ...m, lastCommit: node.lastCommit });
  return {
    hubUrl: urls.hub,
    cdnUrl: urls.cdn,
    requests,
    resetRequests: () => void (requests.length = 0),
    faults,
    stats: () => ({ ...stats }),
    repos: () => store.repos.map((r) => ({ id: r.id, gated: r.gated, private: r.private })),
    commitSha: (repo, revision) => commitOf(repo, revision).sha,
    moveBranch: (repo, branch, commit) => store.moveBranch(repo, branch, commit),
    files: (repo, revision) => [...commitOf(repo, revision).files.keys()].sort(),
    fileInfo: async (repo, path, revision) => {
      const node = store.file(repo, path, revision);
      return withPath(path, node, await meta.info(node));
    },
    fileInfoSync: (repo, path, revision) => {
      const node = store.file(repo, path, revision);
      return withPath(path, node, meta.infoSync(node));
    },
    readFile: (repo, path, o = {}) => readContent({ source: store.file(repo, path, o.revision).source, start: o.start, end: o.end }),
    stop,
  };
}

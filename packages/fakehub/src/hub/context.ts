// What the Hub's handlers share: the state they read and the request being answered.
import type { IncomingMessage } from 'node:http';
import type { CdnSigner } from '../cdn/cdn-signer.js';
import type { FaultSet, FaultTarget } from '../faults/fault-set.js';
import type { Reply } from '../http/respond.js';
import type { FileMeta } from '../repo/file-meta.js';
import type { Repo } from '../repo/model.js';
import type { RepoStore } from '../repo/repo-store.js';
import type { Caller } from './access.js';

export interface HubDeps {
  store: RepoStore;
  meta: FileMeta;
  faults: FaultSet;
  signer: CdnSigner;
  now: () => number;
  /** Base URL of the Hub as clients reach it (absolute Link headers). */
  hubUrl: () => string;
  cdnUrl: () => string;
  /** Tree page size (default 1000) and with expand=true (default 50, as the Hub pages smaller). */
  pageSize: number;
  expandPageSize: number;
  /** Gzip compressible git files when the client accepts it. */
  gzip: boolean;
  cdnUrlTtlSeconds: number;
}

export interface HubRequest extends Reply {
  req: IncomingMessage;
  url: URL;
  caller: Caller;
  target: FaultTarget;
  /** Headers every answer carries (RateLimit…). */
  common: Record<string, string>;
}

/** A repo-scoped route after lookup: the repo and the decoded segments after its id. */
export interface RepoRoute {
  repo: Repo;
  /** Decoded segments after `revision/`, `tree/`, `paths-info/` or `resolve/`. */
  rest: string[];
  raw?: boolean;
}

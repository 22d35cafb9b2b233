// Shapes shared by the store modules. Times are integer milliseconds since the epoch.

/** State of a shard or a file. */
export type WorkState = 'pending' | 'running' | 'done' | 'failed';

/** A held lease on one shard. Every write about the shard carries it; `fence` is checked. */
export interface Claim {
  readonly shardId: number;
  readonly planId: number;
  /** The shard's index in its plan (the array task index that owns it first). */
  readonly index: number;
  /** Fencing token: the shard's `fence` at claim time; any later claim or revocation raises it. */
  readonly fence: number;
  readonly owner: string;
  readonly expiresAt: number;
}

export interface PlanRow {
  id: number;
  createdAt: number;
  manifestPath: string;
  manifestSha256: string;
  root: string;
  hubUrl: string;
  shardCount: number;
  jobIds: string[];
  options: Record<string, unknown>;
}

export interface DatasetRow {
  id: number;
  planId: number;
  repo: string;
  revision: string;
  commitSha: string;
}

export interface ShardRow {
  id: number;
  planId: number;
  index: number;
  bytesTotal: number;
  filesTotal: number;
  state: WorkState;
  fence: number;
  attempts: number;
  lastError: string | null;
  /** Sum of the shard's files' bytes_done. */
  bytesDone: number;
  filesDone: number;
  filesFailed: number;
  /** Live or expired lease, if a row exists. */
  owner: string | null;
  leaseExpiresAt: number | null;
  heartbeatAt: number | null;
}

/** One file of a shard with what the worker needs to fetch and place it. */
export interface ShardFile {
  id: number;
  shardId: number;
  path: string;
  size: number;
  /** Git blob sha1 (of the pointer file for LFS files). */
  oid: string;
  lfsSha256: string | null;
  /** Cache blob name: lfsSha256 else oid. */
  blob: string;
  state: WorkState;
  bytesDone: number;
  attempts: number;
  lastError: string | null;
  datasetId: number;
  repo: string;
  revision: string;
  commitSha: string;
}

export interface EventRow {
  id: number;
  at: number;
  planId: number | null;
  shardId: number | null;
  fileId: number | null;
  owner: string | null;
  kind: string;
  /** Parsed JSON detail, or null. */
  detail: unknown;
}

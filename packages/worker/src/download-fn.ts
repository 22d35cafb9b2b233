import type { Logger } from '@hfhpc/core';
import type { BlobExpectation } from './hash-file.js';
import type { RequestGate } from './throttle-gate.js';

/**
 * What the worker needs from the download engine (`downloadBlob` in ./download): fetch one
 * blob from its resolve URL into `partialPath`, verify it, rename it to `finalPath`. Kept as a
 * type here so tests and the shard runner can inject a different transport.
 */
export interface DownloadRequest {
  /** Resolve URL at the pinned commit. */
  url: string;
  /** Only this origin gets the token. */
  hubOrigin: string;
  /** Hub base URL, for links in error messages. */
  hubUrl?: string;
  token?: string;
  partialPath: string;
  finalPath: string;
  expected: BlobExpectation;
  signal?: AbortSignal;
  /** Bytes of the blob on disk so far (resumed bytes included). */
  onProgress?: (bytesDone: number) => void;
  gate?: RequestGate;
  /** For error messages (the engine names the repo and path). */
  repo: string;
  path: string;
  revision?: string;
  log?: Logger;
}

export interface DownloadOutcome {
  /** Bytes received from the network. */
  bytesFetched: number;
  /** Bytes reused from a partial file. */
  resumedFrom: number;
}

export type DownloadFn = (req: DownloadRequest) => Promise<DownloadOutcome>;

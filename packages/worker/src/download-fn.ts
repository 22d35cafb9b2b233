import type { Logger } from '@hfhpc/core';
import type { DownloadBlobParams } from './download/types.js';
import type { RequestGate } from './throttle-gate.js';

/**
 * What the worker needs from the download engine (`downloadBlob` in ./download): fetch one
 * blob from its resolve URL into `partialPath` (resuming from `resumeFrom`), verify it, publish it at
 * `finalPath` once `lease` confirms the claim still holds the fence. The
 * engine's own parameters minus its test seams, so tests and the shard runner can inject a
 * different transport.
 */
export type DownloadRequest = Pick<
  DownloadBlobParams,
  'url' | 'hubOrigin' | 'hubUrl' | 'token' | 'partialPath' | 'resumeFrom' | 'lease' | 'finalPath' | 'expected' | 'signal' | 'onProgress' | 'repo' | 'path' | 'revision'
> & {
  gate?: RequestGate;
  log?: Logger;
};

export interface DownloadOutcome {
  /** Bytes received from the network. */
  bytesFetched: number;
  /** Bytes reused from a partial file. */
  resumedFrom: number;
}

export type DownloadFn = (req: DownloadRequest) => Promise<DownloadOutcome>;

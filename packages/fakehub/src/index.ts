// Public API of @hfhpc/fakehub: re-exports only.
export { startFakeHub, type FakeHub, type FakeHubOptions, type RepoSummary } from './start-fake-hub.js';
export { loadConfig, type LoadedConfig } from './config/load-config.js';
export { FakeHubConfigError } from './config/config-error.js';
export { parseSize } from './config/parse-size.js';
export { readContent, contentChunks, type ContentSource } from './content/content-source.js';
export { gitBlobSha1 } from './content/hash-content.js';
export { lfsPointer } from './repo/lfs-pointer.js';
export { LFS_THRESHOLD } from './repo/expand-files.js';
export type {
  FaultSet,
  FaultHandle,
  FaultKind,
  FaultMatch,
  FaultLimits,
  FaultOptions,
  RateLimitFault,
  ServerErrorFault,
  DropConnectionFault,
  CorruptBytesFault,
  BandwidthFault,
  SlowFirstByteFault,
  MoveBranchFault,
  HostileEntryOptions,
} from './faults/fault-set.js';
export type * from './types.js';

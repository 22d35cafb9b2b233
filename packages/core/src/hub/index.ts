// The Hub listing client: re-exports only.
export * from './hub-fetch.js';
export * from './resolve-revision.js';
export * from './list-repo-files.js';
export * from './probe-file-access.js';

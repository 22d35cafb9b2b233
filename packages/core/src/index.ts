// Public API of @hfhpc/core: re-exports only.
export * from './errors.js';
export * from './retry-delay.js';
export * from './rate-limit-headers.js';
export * from './http-error.js';
export * from './hub/index.js';
export * from './cache-writer.js';
export * from './store/index.js';

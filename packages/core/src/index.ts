// Public API of @hfhpc/core: re-exports only.
export * from './errors.js';
export * from './secrets.js';
export * from './size.js';
export * from './allow-list.js';
export * from './path-safety.js';
export * from './cache-layout.js';
export * from './hub-url.js';
export * from './token.js';
export * from './logger.js';
export * from './runtime-config.js';
export * from './manifest.js';
export * from './retry-delay.js';
export * from './rate-limit-headers.js';
export * from './http-error.js';
export * from './hub/index.js';
export * from './cache-writer.js';
export * from './store/index.js';

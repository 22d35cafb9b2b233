// Public API of @hfhpc/core: re-exports only.
export * from './errors.js';

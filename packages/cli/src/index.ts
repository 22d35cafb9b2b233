// Public API of @hfhpc/cli: re-exports only.
export { main } from './main.js';

// Public API of @hfhpc/fakehub: re-exports only.
export {};

// A promise with its resolve beside it (Node 20 has no Promise.withResolvers): a wait that
// whoever changes the state ends.

export interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
}

export function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

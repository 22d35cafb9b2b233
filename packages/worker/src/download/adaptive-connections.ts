// How many ranged connections one large blob uses (pure): start with one, double while the
// blob's throughput grew by at least `minGain` over the window before the last addition, up
// to `cap`; when an addition did not pay, go back to the count before it and stop adding. A
// CDN that caps each connection makes every addition pay; a link one connection fills does
// not, and the blob goes on over one connection.

export interface AdaptState {
  /** Connections wanted now. */
  readonly target: number;
  /** Bytes per second measured over the last window at the count before `target`, if any. */
  readonly before?: number;
  /** No more changes. */
  readonly settled: boolean;
}

export interface AdaptPolicy {
  cap: number;
  /** Relative growth that counts as paying (0.1: 10 % more). */
  minGain: number;
}

export function initialAdapt(cap: number): AdaptState {
  return { target: 1, settled: cap <= 1 };
}

/** The next state after a window at `state.target` connections that moved `rate` bytes per second. */
export function adapt(state: AdaptState, rate: number, policy: AdaptPolicy): AdaptState {
  if (state.settled) return state;
  if (state.before !== undefined && rate < state.before * (1 + policy.minGain)) {
    // The last addition did not pay: back to the previous count.
    return { target: Math.max(1, Math.floor(state.target / 2)), before: state.before, settled: true };
  }
  if (state.target >= policy.cap) return { ...state, settled: true };
  return { target: Math.min(policy.cap, state.target * 2), before: rate, settled: false };
}

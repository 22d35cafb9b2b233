// The messages between the hash worker pool (main thread) and a hash thread. Types only: the
// thread imports this file without loading anything.
import type { HashAlgorithm } from './stream-hash.js';

/** Main thread → hash thread. `id` names one hash. */
export type ToHashThread =
  | { op: 'start'; id: number; algorithm: HashAlgorithm; prefix?: string }
  /** Bytes to hash only: `length` bytes of a staging buffer, which comes back with the ack. */
  | { op: 'update'; id: number; buffer: ArrayBuffer; length: number }
  /** Bytes to hash and write at `position` of `fd` (in order per hash); they come back with the ack. */
  | { op: 'write'; id: number; fd: number; position: number; bytes: number; buffers: ArrayBuffer[] }
  /** Once every write of the hash has settled: answer its digest and forget it. */
  | { op: 'digest'; id: number }
  /** Forget the hash (its writes in flight still finish). */
  | { op: 'drop'; id: number };

/** A write error as it crosses threads (an Error's own fields are not all cloned). */
export interface WriteFailure {
  message: string;
  code?: string;
  errno?: number;
  syscall?: string;
}

/** Hash thread → main thread. */
export type FromHashThread =
  | { op: 'ack'; id: number; buffer: ArrayBuffer }
  | { op: 'ack'; id: number; bytes: number; buffers: ArrayBuffer[]; error?: WriteFailure }
  /** `hex` null: the hash was unknown to the thread. */
  | { op: 'digest'; id: number; hex: string | null };

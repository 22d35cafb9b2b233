// What a ranged transfer and each of its passes share, the first-failure rule of a pass, and
// the lease check every connection makes before it writes.
import type { FileHandle } from 'node:fs/promises';
import type { AdaptState } from './adaptive-connections.js';
import type { BlobRef } from './next-step.js';
import type { PrefixHasher } from './prefix-hasher.js';
import type { ResumeRecord } from './resume-record.js';
import type { SegmentPlan } from './segment-plan.js';
import type { SharedUrl } from './shared-url.js';
import type { TransferSettings } from './transfer.js';
import type { DownloadBlobParams, DownloadLease, RangeOptions } from './types.js';

/** The server answered a ranged request with the whole blob (or compressed): fetch it over one connection. */
export class RangeRefused extends Error {}

/** What every connection of one pass over the blob shares. */
export interface Pass {
  readonly handle: FileHandle;
  readonly plan: SegmentPlan;
  readonly hasher: PrefixHasher;
  readonly urls: SharedUrl;
  readonly record: ResumeRecord;
  readonly stop: AbortController;
  /** Rejects once the pass stops (never resolves): raced against waits. */
  readonly stopped: Promise<never>;
  error?: unknown;
  discard: boolean;
  running: number;
  adapt: AdaptState;
  /** Resolves the current wait for a change (a landed batch, a hashed batch, a stop). */
  pulse: () => void;
  changed: Promise<void>;
  /** Settles when the last queued write to the partial has: the connections write one at a time. */
  writeLane: Promise<void>;
}

/** What one ranged transfer carries over all its passes. */
export interface Ranged {
  readonly params: DownloadBlobParams;
  readonly settings: TransferSettings;
  readonly options: RangeOptions;
  readonly blob: BlobRef;
  readonly size: number;
  fetched: number;
  attempts: number;
  confirming?: Promise<void>;
}

/** The first failure stops the pass; later ones are dropped. */
export function fail(pass: Pass, err: unknown): void {
  if (pass.error !== undefined) return;
  pass.error = err;
  pass.stop.abort(err);
  pass.pulse();
}

/**
 * Run `write` once the pass's earlier writes have settled. Concurrent writes to one file queue
 * on its inode lock in the kernel, which spins while it waits: one writer at a time moves the
 * same bytes for far less CPU (docs/architecture.md, "Parallel ranges").
 */
export function serialWrite(pass: Pass, write: () => Promise<void>): Promise<void> {
  const done = pass.writeLane.then(write);
  pass.writeLane = done.catch(() => undefined);
  return done;
}

/** Resolves at once while the lease is known to be held; else once it is confirmed (one confirm shared by every connection). */
export function writable(r: Ranged): Promise<void> | void {
  const lease: DownloadLease | undefined = r.params.lease;
  if (!lease || r.settings.now() < lease.writableUntil()) return;
  r.confirming ??= lease.confirm().finally(() => (r.confirming = undefined));
  return r.confirming;
}

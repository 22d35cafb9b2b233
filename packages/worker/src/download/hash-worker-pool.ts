// Worker threads that hash blobs for the download engine, and have them written too. A network
// batch goes to the worker in one message without a copy (each chunk owns its ArrayBuffer, which
// is transferred); the worker hashes it while libuv's pool writes it at its offset, and sends the
// memory back with the ack once both are done (the main thread frees it at its next scavenge).
// The main thread thus only receives: on 2 cores a verified 2 GiB download went from 700-740 to
// 800-960 MB/s against writing through the main thread's libuv requests and hashing after.
// Writes of one blob land in order; a slow disk holds back that blob, not the others' hashes.
// Bytes the caller keeps (the resume re-hash) are copied into 1 MiB staging buffers instead.
// A blob may have up to `buffersPerHash` MiB and its fair share of the pool's
// `stagingBudgetBytes` in flight (always at least one message): that bounds memory however many
// downloads run, and pushes back on the network stream when the disk or the hash falls behind.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { InternalError } from '@hfhpc/core';
import type { FromHashThread, ToHashThread } from './hash-thread-protocol.js';
import type { BatchTicket, HashAlgorithm, StreamHash } from './stream-hash.js';

// The thread's module, started by path. Under jest this file runs from its TypeScript source,
// which a thread cannot load (node runs no TypeScript before 22.6): it then starts the built
// sibling in dist/, like every child process a test starts (tests build first). No loader hook:
// the thread runs exactly the file production runs.
const HASH_THREAD = new URL(import.meta.url.endsWith('.ts') ? '../../dist/download/hash-thread.js' : './hash-thread.js', import.meta.url);

const MIN_BATCH = 256 * 1024;
const MAX_BATCH = 2 * 1024 * 1024;

interface Job {
  free: ArrayBuffer[];
  /** Bytes of batches sent to be written and not yet acknowledged. */
  lent: number;
  /** One per batch sent to be written, in order (the worker acknowledges in order). */
  landing: Array<{ resolve: () => void; reject: (err: Error) => void }>;
  /** Staging buffers created so far (created on demand, up to the pool's limit). */
  allocated: number;
  waiting?: () => void;
  onDigest?: (hex: string | null) => void;
}

class PoolWorker {
  readonly worker: Worker;
  readonly jobs = new Map<number, Job>();
  failure?: Error;

  /** `onLent` keeps the pool's count of batch bytes in flight. */
  constructor(onLent: (job: Job, delta: number) => void) {
    this.worker = new Worker(HASH_THREAD);
    // Idle workers must not keep a finished process alive; busy ones must (a digest pending).
    this.worker.unref();
    this.worker.on('message', (m: FromHashThread) => {
      const job = this.jobs.get(m.id);
      if (!job) return;
      if (m.op === 'ack') {
        if ('buffer' in m) job.free.push(m.buffer);
        else {
          onLent(job, -m.bytes);
          const landing = job.landing.shift();
          if (m.error) landing?.reject(Object.assign(new Error(m.error.message), m.error));
          else landing?.resolve();
        }
        const wake = job.waiting;
        job.waiting = undefined;
        wake?.();
      } else if (m.op === 'digest') {
        this.remove(m.id);
        job.onDigest?.(m.hex);
      }
    });
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', (code) => this.fail(new Error(`hash worker exited with code ${code}`)));
  }

  send(m: ToHashThread, transfer?: ArrayBuffer[]): void {
    this.worker.postMessage(m, transfer);
  }

  add(id: number, job: Job): void {
    if (this.jobs.size === 0) this.worker.ref();
    this.jobs.set(id, job);
  }

  remove(id: number): void {
    if (this.jobs.delete(id) && this.jobs.size === 0) this.worker.unref();
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const job of this.jobs.values()) {
      for (const landing of job.landing.splice(0)) landing.reject(err);
      job.waiting?.();
      job.onDigest?.(null);
    }
    this.jobs.clear();
  }
}

export interface HashWorkerPoolParams {
  /** Worker threads at most. Default: available cores − 1, between 1 and 4. */
  maxWorkers?: number;
  /** Staging buffers of 1 MiB in flight per hash at most. Default 8 (deep enough to ride out scheduling hiccups). */
  buffersPerHash?: number;
  /** All staging buffers and batch bytes in flight of the pool together. Default 8 MiB. */
  stagingBudgetBytes?: number;
  /** Size of one staging buffer: one message to the worker and one back per buffer. Default 1 MiB. */
  stagingBufferBytes?: number;
}

export class HashWorkerPool {
  private readonly workers: PoolWorker[] = [];
  private readonly maxWorkers: number;
  private readonly buffersPerHash: number;
  private readonly budget: number;
  private readonly stagingBytes: number;
  /** Bytes of staging buffers held by live hashes. */
  private staged = 0;
  /** Hashes started and not yet digested or disposed. */
  private live = 0;
  /** Batch bytes on their way to (or in) a worker. */
  private lent = 0;
  private nextId = 1;

  constructor(params: HashWorkerPoolParams = {}) {
    this.maxWorkers = params.maxWorkers ?? Math.max(1, Math.min(4, availableParallelism() - 1));
    this.buffersPerHash = params.buffersPerHash ?? 8;
    this.budget = params.stagingBudgetBytes ?? 8 * 1024 * 1024;
    this.stagingBytes = params.stagingBufferBytes ?? 1024 * 1024;
  }

  /** Bytes of staging buffers held by live hashes (≤ the budget, plus one buffer per hash). */
  get stagedBytes(): number {
    return this.staged;
  }

  /** Bytes of batches sent to a worker and not yet written and hashed. */
  get lentBytes(): number {
    return this.lent;
  }

  /** A hash on the least busy worker (a new one while under `maxWorkers` and all are busy). */
  start(algorithm: HashAlgorithm, prefix?: string): StreamHash {
    const live = this.workers.filter((w) => !w.failure);
    this.workers.splice(0, this.workers.length, ...live);
    let pw = live.find((w) => w.jobs.size === 0);
    if (!pw && live.length < this.maxWorkers) {
      pw = new PoolWorker((job, delta) => {
        job.lent += delta;
        this.lent += delta;
      });
      this.workers.push(pw);
    }
    pw ??= live.reduce((a, b) => (b.jobs.size < a.jobs.size ? b : a));
    return this.hashOn(pw, algorithm, prefix);
  }

  /**
   * Bytes a writing hash should gather per batch: half its fair share of the budget (one batch
   * in flight while the next gathers), from 256 KiB to 2 MiB. Large batches cost the least CPU
   * per byte (a verified 2 GiB: 2 MiB batches 830-880 MB/s, 512 KiB 730-800); many streams
   * at once get smaller ones so the process stays small (8 × 1 GiB under 150 MiB).
   */
  batchBytes(): number {
    return Math.min(MAX_BATCH, Math.max(MIN_BATCH, Math.floor(this.budget / Math.max(1, this.live) / 2)));
  }

  /** Stop every worker (tests, shutdown). Hashes in progress fail. */
  async close(): Promise<void> {
    const all = this.workers.splice(0);
    await Promise.all(all.map((w) => w.worker.terminate()));
  }

  private hashOn(pw: PoolWorker, algorithm: HashAlgorithm, prefix: string | undefined): StreamHash {
    const id = this.nextId++;
    const job: Job = { free: [], lent: 0, allocated: 0, landing: [] };
    const STAGING_BYTES = this.stagingBytes;
    const takeBuffer = (): ArrayBuffer | undefined => {
      const buffer = job.free.pop();
      if (buffer) return buffer;
      const mayGrow = job.allocated === 0 || (job.allocated < this.buffersPerHash && this.staged + STAGING_BYTES <= this.budget);
      if (!mayGrow) return undefined;
      job.allocated++;
      this.staged += STAGING_BYTES;
      return new ArrayBuffer(STAGING_BYTES);
    };
    this.live++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.live--;
      this.staged -= job.allocated * STAGING_BYTES;
      job.free = [];
      // Bytes still in flight are the worker's now; stop counting them against the budget.
      this.lent -= job.lent;
      job.lent = 0;
    };
    // Batch bytes may pile up to what this hash's staging buffers would hold and its fair share
    // of the pool's budget, while the budget lasts; one batch always goes through so every hash
    // progresses (8 streams then hold the budget between them, not the budget plus 8 batches).
    const lentRoom = () =>
      job.lent === 0 || (job.lent < Math.min(this.buffersPerHash * STAGING_BYTES, this.budget / this.live) && this.staged + this.lent <= this.budget);
    pw.add(id, job);
    pw.send({ op: 'start', id, algorithm, prefix });
    let staging: Uint8Array | undefined;
    let filled = 0;
    let done = false;
    const broken = () => new InternalError(`hash worker failed: ${pw.failure?.message ?? 'unknown'}`, { cause: pw.failure });

    const flush = () => {
      if (!staging || filled === 0) return;
      const buffer = staging.buffer as ArrayBuffer;
      pw.send({ op: 'update', id, buffer, length: filled }, [buffer]);
      staging = undefined;
      filled = 0;
    };
    const room = async (): Promise<void> => {
      while (!staging) {
        if (pw.failure) throw broken();
        const buffer = takeBuffer();
        if (buffer) {
          staging = new Uint8Array(buffer);
          filled = 0;
        } else {
          await new Promise<void>((resolve) => (job.waiting = resolve));
        }
      }
    };

    const writeAndUpdate = (fd: number, position: number, chunks: readonly Buffer[]): BatchTicket => {
      flush(); // bytes copied earlier go first: the worker hashes in message order
      const buffers: ArrayBuffer[] = [];
      let bytes = 0;
      for (const c of chunks) {
        if (c.length === 0) continue;
        const whole = c.byteOffset === 0 && c.byteLength === c.buffer.byteLength && c.buffer instanceof ArrayBuffer;
        // A chunk that shares its ArrayBuffer (a slice of a pool) is copied, not taken.
        buffers.push(whole ? (c.buffer as ArrayBuffer) : (c.buffer.slice(c.byteOffset, c.byteOffset + c.byteLength) as ArrayBuffer));
        bytes += c.length;
      }
      const landed = new Promise<void>((resolve, reject) => job.landing.push({ resolve, reject }));
      const message = { op: 'write' as const, id, fd, position, bytes };
      try {
        pw.send({ ...message, buffers }, buffers);
      } catch {
        // An ArrayBuffer Node will not move (marked untransferable): send copies instead.
        pw.send({ ...message, buffers: buffers.map((b) => b.slice(0)) });
      }
      job.lent += bytes;
      this.lent += bytes;
      if (lentRoom()) return { landed };
      const room = (async () => {
        while (!lentRoom() && !pw.failure) await new Promise<void>((resolve) => (job.waiting = resolve));
        if (pw.failure) throw broken();
      })();
      return { landed, room };
    };

    return {
      batchBytes: () => this.batchBytes(),
      writeAndUpdate(fd, position, chunks) {
        if (done) throw new InternalError('write after digest or dispose');
        if (pw.failure) throw broken();
        return writeAndUpdate(fd, position, chunks);
      },
      update(chunks) {
        if (done) throw new InternalError('update after digest or dispose');
        // Fast path (no await) while staging space lasts; the slow path waits for an ack.
        let i = 0;
        let offset = 0;
        const copySync = (): boolean => {
          while (i < chunks.length) {
            if (!staging) {
              const buffer = takeBuffer();
              if (!buffer) return false;
              staging = new Uint8Array(buffer);
              filled = 0;
            }
            const chunk = chunks[i]!;
            const n = Math.min(chunk.length - offset, STAGING_BYTES - filled);
            staging.set(chunk.subarray(offset, offset + n), filled);
            filled += n;
            offset += n;
            if (offset === chunk.length) {
              i++;
              offset = 0;
            }
            if (filled === STAGING_BYTES) flush();
          }
          return true;
        };
        if (pw.failure) throw broken();
        if (copySync()) return;
        return (async () => {
          do await room();
          while (!copySync());
        })();
      },
      async digest() {
        if (done) throw new InternalError('digest twice');
        flush();
        done = true;
        if (pw.failure) throw broken();
        const hex = await new Promise<string | null>((resolve) => {
          job.onDigest = resolve;
          pw.send({ op: 'digest', id });
        });
        release();
        if (hex === null) throw broken();
        return hex;
      },
      dispose() {
        release();
        // Callers wait for their batches before disposing; never leave one waiting forever.
        for (const landing of job.landing.splice(0)) landing.reject(new InternalError('hash disposed with a write in flight'));
        if (done) return;
        done = true;
        pw.remove(id);
        if (!pw.failure) pw.send({ op: 'drop', id });
      },
    };
  }
}

/** The pool `downloadBlob` uses unless given another. */
export const defaultHashPool = new HashWorkerPool();

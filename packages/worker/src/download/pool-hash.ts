// One hash running on a pool thread: staging buffers for bytes the caller keeps, batches moved
// to the thread to be written and hashed, and the pool's budget counts for both.
import { InternalError } from '@hfhpc/core';
import type { Job, PoolWorker } from './hash-pool-worker.js';
import type { BatchTicket, HashAlgorithm, StreamHash } from './stream-hash.js';

/** The pool's shared counts and limits every hash draws on and gives back. */
export interface PoolBudget {
  /** Size of one staging buffer. */
  readonly stagingBytes: number;
  readonly buffersPerHash: number;
  /** All staging buffers and batch bytes in flight of the pool together. */
  readonly budget: number;
  /** Bytes of staging buffers held by live hashes. */
  staged: number;
  /** Hashes started and not yet digested or disposed. */
  live: number;
  /** Batch bytes on their way to (or in) a worker. */
  lent: number;
  batchBytes(): number;
}

/** Where `update` is in the chunks it was given (the fast path may stop part-way). */
interface Cursor {
  i: number;
  offset: number;
}

export class PoolHash implements StreamHash {
  private readonly job: Job = { free: [], lent: 0, allocated: 0, landing: [] };
  private staging: Uint8Array | undefined;
  private filled = 0;
  private done = false;
  private released = false;

  constructor(
    private readonly pw: PoolWorker,
    private readonly acct: PoolBudget,
    private readonly id: number,
    algorithm: HashAlgorithm,
    prefix: string | undefined,
  ) {
    acct.live++;
    pw.add(id, this.job);
    pw.send({ op: 'start', id, algorithm, prefix });
  }

  batchBytes(): number {
    return this.acct.batchBytes();
  }

  writeAndUpdate(fd: number, position: number, chunks: readonly Buffer[]): BatchTicket {
    if (this.done) throw new InternalError('write after digest or dispose');
    if (this.pw.failure) throw this.broken();
    return this.sendWrite(fd, position, chunks);
  }

  update(chunks: readonly Buffer[]): void | Promise<void> {
    if (this.done) throw new InternalError('update after digest or dispose');
    // Fast path (no await) while staging space lasts; the slow path waits for an ack.
    const at: Cursor = { i: 0, offset: 0 };
    if (this.pw.failure) throw this.broken();
    if (this.copySync(chunks, at)) return;
    return (async () => {
      do await this.room();
      while (!this.copySync(chunks, at));
    })();
  }

  async digest(): Promise<string> {
    if (this.done) throw new InternalError('digest twice');
    this.flush();
    this.done = true;
    if (this.pw.failure) throw this.broken();
    const hex = await new Promise<string | null>((resolve) => {
      this.job.onDigest = resolve;
      this.pw.send({ op: 'digest', id: this.id });
    });
    this.release();
    if (hex === null) throw this.broken();
    return hex;
  }

  dispose(): void {
    this.release();
    // Callers wait for their batches before disposing; never leave one waiting forever.
    for (const landing of this.job.landing.splice(0)) landing.reject(new InternalError('hash disposed with a write in flight'));
    if (this.done) return;
    this.done = true;
    this.pw.remove(this.id);
    if (!this.pw.failure) this.pw.send({ op: 'drop', id: this.id });
  }

  private broken(): InternalError {
    return new InternalError(`hash worker failed: ${this.pw.failure?.message ?? 'unknown'}`, { cause: this.pw.failure });
  }

  /** A free staging buffer, or a new one while this hash and the pool's budget allow it. */
  private takeBuffer(): ArrayBuffer | undefined {
    const { job, acct } = this;
    const buffer = job.free.pop();
    if (buffer) return buffer;
    const mayGrow = job.allocated === 0 || (job.allocated < acct.buffersPerHash && acct.staged + acct.stagingBytes <= acct.budget);
    if (!mayGrow) return undefined;
    job.allocated++;
    acct.staged += acct.stagingBytes;
    return new ArrayBuffer(acct.stagingBytes);
  }

  /** Give this hash's share of the budget back (once). */
  private release(): void {
    if (this.released) return;
    const { job, acct } = this;
    this.released = true;
    acct.live--;
    acct.staged -= job.allocated * acct.stagingBytes;
    job.free = [];
    // Bytes still in flight are the worker's now; stop counting them against the budget.
    acct.lent -= job.lent;
    job.lent = 0;
  }

  /**
   * Batch bytes may pile up to what this hash's staging buffers would hold and its fair share
   * of the pool's budget, while the budget lasts; one batch always goes through so every hash
   * progresses (many streams then hold the budget between them, not the budget plus a batch each).
   */
  private lentRoom(): boolean {
    const { job, acct } = this;
    return job.lent === 0 || (job.lent < Math.min(acct.buffersPerHash * acct.stagingBytes, acct.budget / acct.live) && acct.staged + acct.lent <= acct.budget);
  }

  private flush(): void {
    if (!this.staging || this.filled === 0) return;
    const buffer = this.staging.buffer as ArrayBuffer;
    this.pw.send({ op: 'update', id: this.id, buffer, length: this.filled }, [buffer]);
    this.staging = undefined;
    this.filled = 0;
  }

  /** Wait for a staging buffer. */
  private async room(): Promise<void> {
    while (!this.staging) {
      if (this.pw.failure) throw this.broken();
      const buffer = this.takeBuffer();
      if (buffer) {
        this.staging = new Uint8Array(buffer);
        this.filled = 0;
      } else {
        await new Promise<void>((resolve) => (this.job.waiting = resolve));
      }
    }
  }

  /** Copy chunks from `at` into staging buffers while there are any; false when it ran out. */
  private copySync(chunks: readonly Buffer[], at: Cursor): boolean {
    const size = this.acct.stagingBytes;
    while (at.i < chunks.length) {
      if (!this.staging) {
        const buffer = this.takeBuffer();
        if (!buffer) return false;
        this.staging = new Uint8Array(buffer);
        this.filled = 0;
      }
      const chunk = chunks[at.i];
      const n = Math.min(chunk.length - at.offset, size - this.filled);
      this.staging.set(chunk.subarray(at.offset, at.offset + n), this.filled);
      this.filled += n;
      at.offset += n;
      if (at.offset === chunk.length) {
        at.i++;
        at.offset = 0;
      }
      if (this.filled === size) this.flush();
    }
    return true;
  }

  private sendWrite(fd: number, position: number, chunks: readonly Buffer[]): BatchTicket {
    this.flush(); // bytes copied earlier go first: the worker hashes in message order
    const { buffers, bytes } = ownBuffers(chunks);
    const { job, acct, pw } = this;
    const landed = new Promise<void>((resolve, reject) => job.landing.push({ resolve, reject }));
    const message = { op: 'write' as const, id: this.id, fd, position, bytes };
    try {
      pw.send({ ...message, buffers }, buffers);
    } catch {
      // An ArrayBuffer Node will not move (marked untransferable): send copies instead.
      pw.send({ ...message, buffers: buffers.map((b) => b.slice(0)) });
    }
    job.lent += bytes;
    acct.lent += bytes;
    if (this.lentRoom()) return { landed };
    const room = (async () => {
      while (!this.lentRoom() && !pw.failure) await new Promise<void>((resolve) => (job.waiting = resolve));
      if (pw.failure) throw this.broken();
    })();
    return { landed, room };
  }
}

/** The chunks' ArrayBuffers to transfer: a chunk that shares its ArrayBuffer (a slice of a pool) is copied, not taken. */
function ownBuffers(chunks: readonly Buffer[]): { buffers: ArrayBuffer[]; bytes: number } {
  const buffers: ArrayBuffer[] = [];
  let bytes = 0;
  for (const c of chunks) {
    if (c.length === 0) continue;
    const whole = c.byteOffset === 0 && c.byteLength === c.buffer.byteLength && c.buffer instanceof ArrayBuffer;
    buffers.push(whole ? (c.buffer) : (c.buffer.slice(c.byteOffset, c.byteOffset + c.byteLength) as ArrayBuffer));
    bytes += c.length;
  }
  return { buffers, bytes };
}

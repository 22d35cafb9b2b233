// One hash thread of the pool and the jobs (hashes) it runs: messages out, acknowledgements in.
import { Worker } from 'node:worker_threads';
import type { FromHashThread, ToHashThread } from './hash-thread-protocol.js';

// The thread's module, started by path. Under jest this file runs from its TypeScript source,
// which a thread cannot load (node runs no TypeScript before 22.6): it then starts the built
// sibling in dist/, like every child process a test starts (tests build first). No loader hook:
// the thread runs exactly the file production runs.
const HASH_THREAD = new URL(import.meta.url.endsWith('.ts') ? '../../dist/download/hash-thread.js' : './hash-thread.js', import.meta.url);

export interface Job {
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

export class PoolWorker {
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

// A hash thread of the hash worker pool (`hash-worker-pool.ts` starts it by path). It hashes what
// it is sent and, for a write, has libuv's pool write the batch at its offset while it hashes it:
// the two overlap. Each message's memory goes back with its ack. Imports only node and the
// dependency-free write loop, so a thread starts light.
import { createHash, type Hash } from 'node:crypto';
import { writeFileSync, writev } from 'node:fs';
import { promisify } from 'node:util';
import { parentPort } from 'node:worker_threads';
import type { FromHashThread, ToHashThread, WriteFailure } from './hash-thread-protocol.js';
import { writeAll } from './write-all.js';

if (!parentPort) throw new Error('hash-thread.js runs as a worker thread of the hash worker pool');
const port = parentPort;
// Named so `top -H` and per-thread CPU figures (/proc/<pid>/task/*/comm) can tell it from node's
// other threads, which are all called `node`. Linux only; elsewhere the name stays.
try {
  writeFileSync('/proc/thread-self/comm', 'hfhpc-hash');
} catch {
  /* not Linux, or /proc not mounted */
}
const writevAt = promisify(writev);

const hashes = new Map<number, Hash>();
// Per hash: its last write (writes of one hash land in order), and the error that stopped it.
const tails = new Map<number, Promise<void>>();
const failed = new Map<number, WriteFailure>();
const settledTail = (id: number): Promise<void> => tails.get(id) ?? Promise.resolve();
const send = (m: FromHashThread, transfer?: ArrayBuffer[]): void => port.postMessage(m, transfer);

port.on('message', (m: ToHashThread) => {
  if (m.op === 'start') {
    const h = createHash(m.algorithm);
    if (m.prefix) h.update(m.prefix);
    hashes.set(m.id, h);
  } else if (m.op === 'update') {
    hashes.get(m.id)?.update(new Uint8Array(m.buffer, 0, m.length));
    send({ op: 'ack', id: m.id, buffer: m.buffer }, [m.buffer]);
  } else if (m.op === 'write') {
    // Hashed here while libuv's pool writes it (and the batch before): the two overlap. The
    // ack waits for both, so what the caller counts as done is on disk and in the hash.
    const views = m.buffers.map((b) => new Uint8Array(b));
    const h = hashes.get(m.id);
    if (h && !failed.has(m.id)) for (const v of views) h.update(v);
    const tail = settledTail(m.id)
      .then(() => (failed.has(m.id) ? undefined : writeAll(async (bufs, at) => (await writevAt(m.fd, bufs, at)).bytesWritten, views, m.position)))
      .catch((e: NodeJS.ErrnoException) => {
        failed.set(m.id, { message: e.message, code: e.code, errno: e.errno, syscall: e.syscall });
      })
      .then(() => {
        // The memory goes back to the main thread, where young garbage is swept at every
        // scavenge: this thread allocates too little to collect it soon.
        send({ op: 'ack', id: m.id, bytes: m.bytes, buffers: m.buffers, error: failed.get(m.id) }, m.buffers);
      });
    tails.set(m.id, tail);
  } else if (m.op === 'digest') {
    void settledTail(m.id).then(() => {
      const h = hashes.get(m.id);
      hashes.delete(m.id);
      tails.delete(m.id);
      failed.delete(m.id);
      send({ op: 'digest', id: m.id, hex: h ? h.digest('hex') : null });
    });
  } else if (m.op === 'drop') {
    hashes.delete(m.id);
    void settledTail(m.id).then(() => {
      tails.delete(m.id);
      failed.delete(m.id);
    });
  }
});

// Tiny per-test HTTP servers on 127.0.0.1 (got's `withServer` style) and fixtures for the
// download engine tests.
import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';

export interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

export interface TestServer {
  origin: string;
  seen: Seen[];
  /** Body bytes written by `send`, over all requests. */
  bytesSent: number;
  close(): Promise<void>;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, server: TestServer, index: number) => void | Promise<void>;

export async function serve(handler: Handler): Promise<TestServer> {
  const state: TestServer = { origin: '', seen: [], bytesSent: 0, close: async () => {} };
  const server = createServer((req, res) => {
    const index = state.seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers }) - 1;
    Promise.resolve(handler(req, res, state, index)).catch((err: unknown) => {
      res.destroy(err as Error);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}

/** Deterministic pseudo-random bytes: a 64 KiB hashed block, each copy stamped with its index. */
export function content(size: number, seed = 1): Buffer {
  const block = Buffer.allocUnsafe(64 * 1024);
  let h = createHash('sha256').update(`seed${seed}`).digest();
  for (let at = 0; at < block.length; at += h.length) {
    h.copy(block, at);
    h = createHash('sha256').update(h).digest();
  }
  const out = Buffer.allocUnsafe(size);
  for (let at = 0, i = 0; at < size; at += block.length, i++) {
    block.writeUInt32LE(i, 0);
    block.copy(out, at, 0, Math.min(block.length, size - at));
  }
  return out;
}

export const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
export const gitSha1 = (b: Buffer) => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');

/** Parse `bytes=N-` of a request. */
export function rangeStart(req: IncomingMessage): number | undefined {
  const m = /^bytes=(\d+)-$/.exec(String(req.headers.range ?? ''));
  return m ? Number(m[1]) : undefined;
}

/**
 * Answer with `body` honouring `Range: bytes=N-` (206) unless `ignoreRange`; `cutAfter` bytes
 * sends only that many then destroys the socket; `stallAfter` sends that many and then nothing.
 */
export function send(
  req: IncomingMessage,
  res: ServerResponse,
  server: TestServer,
  body: Buffer,
  opts: { ignoreRange?: boolean; cutAfter?: number; stallAfter?: number; headers?: Record<string, string> } = {},
): void {
  const start = opts.ignoreRange ? 0 : (rangeStart(req) ?? 0);
  const slice = body.subarray(start);
  const headers: Record<string, string> = { 'content-length': String(slice.length), 'accept-ranges': 'bytes', ...opts.headers };
  if (start > 0) headers['content-range'] = `bytes ${start}-${body.length - 1}/${body.length}`;
  res.writeHead(start > 0 ? 206 : 200, headers);
  const limit = opts.cutAfter ?? opts.stallAfter;
  if (limit === undefined) {
    server.bytesSent += slice.length;
    res.end(slice);
    return;
  }
  const part = slice.subarray(0, limit);
  server.bytesSent += part.length;
  res.write(part, () => {
    // Give the bytes time to leave before the reset, so the client really has them.
    if (opts.cutAfter !== undefined) setTimeout(() => res.socket?.destroy(), 20);
  });
}

export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'hfhpc-dl-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

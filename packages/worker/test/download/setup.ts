// A Hub and a CDN server (different ports = different origins) and download params for them.
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createMemoryGate, type DownloadBlobParams } from '../../src/index.js';
import { content, serve, sha256, tempDir, type TestServer } from './serve.js';

export const COMMIT = 'c0ffee0000000000000000000000000000000001';
export const TOKEN = 'hf_downloadTestToken0123456789';

export interface Rig {
  hub: TestServer;
  cdn: TestServer;
  dir: string;
  /** Replace per test. */
  hubHandler: (req: IncomingMessage, res: ServerResponse, i: number) => void | Promise<void>;
  cdnHandler: (req: IncomingMessage, res: ServerResponse, i: number) => void | Promise<void>;
  close(): Promise<void>;
}

export async function startRig(): Promise<Rig> {
  const rig = {} as Rig;
  rig.hubHandler = (_req, res) => res.writeHead(500).end();
  rig.cdnHandler = (_req, res) => res.writeHead(500).end();
  rig.hub = await serve((req, res, _s, i) => rig.hubHandler(req, res, i));
  rig.cdn = await serve((req, res, _s, i) => rig.cdnHandler(req, res, i));
  const tmp = await tempDir();
  rig.dir = tmp.dir;
  rig.close = async () => {
    await Promise.all([rig.hub.close(), rig.cdn.close()]);
    await tmp.cleanup();
  };
  return rig;
}

/** Hub handler: 302 to the CDN like an LFS resolve, with the Hub's identity headers. */
export function redirectToCdn(rig: Rig, body: Buffer, extra: Record<string, string> = {}) {
  return (_req: IncomingMessage, res: ServerResponse) => {
    res
      .writeHead(302, {
        location: `${rig.cdn.origin}/blobs/${sha256(body)}?Expires=9999999999&Signature=sig`,
        'x-linked-etag': `"${sha256(body)}"`,
        'x-linked-size': String(body.length),
        'x-repo-commit': COMMIT,
        ...extra,
      })
      .end('Found. Redirecting');
  };
}

export function lfsParams(rig: Rig, body: Buffer, extra: Partial<DownloadBlobParams> = {}): DownloadBlobParams {
  const etag = sha256(body);
  return {
    url: `${rig.hub.origin}/datasets/org/x/resolve/${COMMIT}/data/a.parquet`,
    hubOrigin: rig.hub.origin,
    token: TOKEN,
    repo: 'org/x',
    path: 'data/a.parquet',
    revision: COMMIT,
    partialPath: join(rig.dir, 'blobs', `${etag}.incomplete`),
    finalPath: join(rig.dir, 'blobs', etag),
    expected: { size: body.length, sha256: etag },
    retry: { baseMs: 1, capMs: 5 },
    gate: createMemoryGate(),
    ...extra,
  };
}

export { content };

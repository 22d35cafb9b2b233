// The request log entry, created as a request arrives and filled in as it is answered.
import type { IncomingMessage } from 'node:http';
import type { RequestRecord, ServerName } from '../types.js';

export function newRecord(params: { req: IncomingMessage; host: ServerName; at: number }): RequestRecord {
  const { req } = params;
  const raw = req.url ?? '/';
  const q = raw.indexOf('?');
  return {
    method: req.method ?? 'GET',
    host: params.host,
    endpoint: 'other',
    path: q < 0 ? raw : raw.slice(0, q),
    query: q < 0 ? '' : raw.slice(q + 1),
    status: 0,
    range: typeof req.headers.range === 'string' ? req.headers.range : null,
    bytesSent: 0,
    authorization: req.headers.authorization !== undefined,
    faults: [],
    at: params.at,
  };
}

// Writing whole (small) answers: JSON, the Hub's error shape, plain text.
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { RequestRecord } from '../types.js';

export interface Reply {
  res: ServerResponse;
  record: RequestRecord;
  /** HEAD: headers only. */
  head?: boolean;
}

/** Send a complete body (omitted for HEAD, Content-Length still the body's). */
export function sendBody(r: Reply, status: number, headers: OutgoingHttpHeaders, body: Buffer | string): void {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  r.res.writeHead(status, { 'Content-Length': bytes.length, ...headers });
  r.record.status = status;
  if (r.head) {
    r.res.end();
    return;
  }
  r.record.bytesSent += bytes.length;
  r.res.end(bytes);
}

export function sendJson(r: Reply, status: number, value: unknown, headers: OutgoingHttpHeaders = {}): void {
  sendBody(r, status, { 'Content-Type': 'application/json; charset=utf-8', ...headers }, JSON.stringify(value));
}

/**
 * The Hub's error answer: `X-Error-Code` (when there is one), `X-Error-Message` and a JSON
 * body `{"error": message}`.
 */
export function sendHubError(
  r: Reply,
  status: number,
  error: { code?: string; message: string },
  headers: OutgoingHttpHeaders = {},
): void {
  // Header values must be printable ASCII: paths in messages may hold anything.
  const h: OutgoingHttpHeaders = { 'X-Error-Message': error.message.replace(/[^\x20-\x7e]/gu, (c) => encodeURIComponent(c)), ...headers };
  if (error.code) h['X-Error-Code'] = error.code;
  sendJson(r, status, { error: error.message }, h);
}

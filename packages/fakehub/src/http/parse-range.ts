// The `Range` request header, as S3/CloudFront and the Hub read it.

export type RangeRequest =
  | { kind: 'none' }
  | { kind: 'range'; start: number; end: number /* exclusive */ }
  | { kind: 'multi' }
  | { kind: 'unsatisfiable' };

/**
 * Parse `bytes=a-b`, `bytes=a-` and `bytes=-n` against a size. A malformed header is ignored
 * (`none`, answered 200); several ranges give `multi` (answered 200 with the whole object).
 */
export function parseRange(params: { header: string | undefined; size: number }): RangeRequest {
  const { header, size } = params;
  if (!header) return { kind: 'none' };
  const m = /^\s*bytes\s*=\s*(.+)$/i.exec(header);
  if (!m) return { kind: 'none' };
  const parts = m[1].split(',').map((p) => p.trim());
  if (parts.length > 1) return { kind: 'multi' };
  const r = /^(\d*)-(\d*)$/.exec(parts[0]);
  if (!r || (r[1] === '' && r[2] === '')) return { kind: 'none' };
  if (r[1] === '') {
    const n = Number(r[2]);
    if (n === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'range', start: Math.max(0, size - n), end: size };
  }
  const start = Number(r[1]);
  if (r[2] !== '' && Number(r[2]) < start) return { kind: 'none' }; // invalid: ignored
  if (start >= size) return { kind: 'unsatisfiable' };
  const last = r[2] === '' ? size - 1 : Number(r[2]);
  return { kind: 'range', start, end: Math.min(last, size - 1) + 1 };
}

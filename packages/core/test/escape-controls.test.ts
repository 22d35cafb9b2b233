import { describe, expect, it } from '@jest/globals';
import { Writable } from 'node:stream';
import { HubError, UnsafePathError, createLogger, escapeControls, toHfhpcError } from '@hfhpc/core';

const HOSTILE = 'a\u0000b\u001b[2Jc\u202ed\u2066e\u200ff\u0085g\u007fh\ri';

function capture(): { stream: Writable; text(): string } {
  const chunks: string[] = [];
  const stream = new Writable({ write(c, _e, cb) { chunks.push(String(c)); cb(); } });
  return { stream, text: () => chunks.join('') };
}

// No raw C0/C1 control, DEL, or bidi control in `s` (newlines allowed only between lines).
// eslint-disable-next-line no-control-regex
const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

describe('escapeControls', () => {
  it('writes controls and bidi controls as escapes, leaves other text alone', () => {
    expect(escapeControls(HOSTILE)).toBe('a\\u0000b\\u001b[2Jc\\u202ed\\u2066e\\u200ff\\u0085g\\u007fh\\ri');
    expect(escapeControls('données/日本語 ok')).toBe('données/日本語 ok');
    expect(escapeControls('a\nb\tc')).toBe('a\\nb\\tc');
    expect(escapeControls('a\nb\u202e', { keepNewlines: true })).toBe('a\nb\\u202e');
  });

  it('keeps a JSON line valid JSON with the same value', () => {
    const line = JSON.stringify({ msg: HOSTILE });
    const escaped = escapeControls(line);
    expect(escaped).not.toMatch(RAW);
    expect(JSON.parse(escaped).msg).toBe(HOSTILE);
  });

  it('is applied to every HfhpcError message and hint, and to internal errors', () => {
    const e = new UnsafePathError(`unsafe path ${HOSTILE}`, { hint: `exclude ${HOSTILE}` });
    expect(e.message).not.toMatch(RAW);
    expect(e.toUserString()).not.toMatch(RAW);
    expect(e.toUserString()).toContain('c\\u202ed');
    expect(toHfhpcError(new Error(HOSTILE)).toUserString()).not.toMatch(RAW);
  });

  it.each(['text', 'json'] as const)('reaches no %s log line raw, in the message or a field', (format) => {
    const out = capture();
    const log = createLogger({ format, stream: out.stream, color: false });
    log.warn(`file ${HOSTILE} failed`, { path: HOSTILE, err: new HubError(`404 for ${HOSTILE}`) });
    const text = out.text();
    expect(text.trimEnd().split('\n')).toHaveLength(1);
    expect(text.trimEnd()).not.toMatch(RAW);
    if (format === 'json') expect(JSON.parse(text).path).toBe(HOSTILE);
    else expect(text).toContain('c\\u202ed');
  });
});

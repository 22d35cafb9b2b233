// Text taken from a manifest or from the Hub (file names, error bodies) may carry characters a
// terminal acts on instead of showing: NUL, ESC sequences, a carriage return that overwrites the
// line, bidi overrides (U+202E) that make `evil\u202e.txt` read backwards. Every message and log
// line goes through escapeControls before it reaches a terminal or a log file.

// C0 (NUL … US), DEL, C1; the Arabic letter mark; LRM/RLM; LRE…RLO; LRI…PDI; the line and
// paragraph separators some terminals treat as newlines.
// eslint-disable-next-line no-control-regex
const UNSAFE_RE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
// eslint-disable-next-line no-control-regex
const UNSAFE_BUT_NEWLINE_RE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const SHORT: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeOne(ch: string): string {
  return SHORT[ch] ?? `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

export interface EscapeControlsOptions {
  /** Keep `\n` as is (multi-line reports); default false: one message, one line. */
  keepNewlines?: boolean;
}

/**
 * `text` with every control and bidi-control character written as an escape (`\n`, `\r`,
 * `\t`, else `\u202e`), so the terminal shows it instead of acting on it. The escapes are
 * valid inside JSON strings too, so a JSON line stays JSON.
 */
export function escapeControls(text: string, options: EscapeControlsOptions = {}): string {
  return text.replace(options.keepNewlines ? UNSAFE_BUT_NEWLINE_RE : UNSAFE_RE, escapeOne);
}

// A process-wide registry of secret values (the Hub token) and the one function that scrubs
// them from any text before it leaves the process: log lines, error messages, files we write.
// Redaction is by value (whatever was registered) and by shape (anything that looks like a
// Hugging Face token or an Authorization header), so a token that reached us some other way
// is still caught.

const secrets = new Set<string>();

/** What a redacted secret is replaced by. */
export const REDACTED = 'hf_***';

// Shorter values are not registered: redacting every "abc" would mangle ordinary text, and no
// real token is that short.
const MIN_SECRET_LENGTH = 8;

// User access tokens (hf_…), legacy org API tokens (api_org_…) and bearer credentials.
const TOKEN_SHAPES: RegExp[] = [/\bhf_[A-Za-z0-9]{20,}/g, /\bapi_org_[A-Za-z0-9]{20,}/g];
const BEARER = /\b(Bearer)\s+[^\s"',;]+/gi;

/** Remember `value` as a secret so that `redact` removes it everywhere. Empty/short values are ignored. */
export function registerSecret(value: string | undefined | null): void {
  const v = value?.trim();
  if (v && v.length >= MIN_SECRET_LENGTH) secrets.add(v);
}

/** Forget every registered secret (tests). */
export function clearSecrets(): void {
  secrets.clear();
}

/** `text` with every registered secret, token-shaped string and bearer credential replaced by `hf_***`. */
export function redact(text: string): string {
  let out = text;
  // Longest first, so a secret that contains another is removed whole.
  for (const s of [...secrets].sort((a, b) => b.length - a.length)) {
    if (out.includes(s)) out = out.split(s).join(REDACTED);
  }
  for (const shape of TOKEN_SHAPES) out = out.replace(shape, REDACTED);
  return out.replace(BEARER, (_m, word: string) => `${word} ${REDACTED}`);
}

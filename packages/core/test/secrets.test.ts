import { afterEach, describe, expect, it } from '@jest/globals';
import { AuthError, HubError, ManifestError, toHfhpcError } from '../src/errors.js';
import { REDACTED, clearSecrets, redact, registerSecret } from '../src/secrets.js';

afterEach(() => clearSecrets());

describe('redact', () => {
  it('removes registered secrets wherever they appear', () => {
    registerSecret('s3cr3t-value-xyz');
    expect(redact('a s3cr3t-value-xyz b s3cr3t-value-xyzs3cr3t-value-xyz')).toBe(`a ${REDACTED} b ${REDACTED}${REDACTED}`);
  });

  it('removes a longer secret whole when a shorter one is inside it', () => {
    registerSecret('abcdefgh');
    registerSecret('abcdefgh-ijkl');
    expect(redact('[abcdefgh-ijkl]')).toBe(`[${REDACTED}]`);
  });

  it('ignores empty and very short values, which would mangle ordinary text', () => {
    registerSecret('');
    registerSecret(undefined);
    registerSecret('abc');
    expect(redact('abc def')).toBe('abc def');
  });

  it.each([
    ['token=hf_abcdefghijklmnopqrstuvwxyz012345', `token=${REDACTED}`],
    ['{"t":"hf_ABCDEFGHIJKLMNOPQRSTUVWX"}', `{"t":"${REDACTED}"}`],
    ['api_org_abcdefghijklmnopqrstuvwxyz', REDACTED],
    ['Authorization: Bearer abc.def-ghi', `Authorization: Bearer ${REDACTED}`],
    ['authorization: bearer xyz123, next', `authorization: bearer ${REDACTED}, next`],
  ])('removes token-shaped text in %p', (input, out) => {
    expect(redact(input)).toBe(out);
  });

  it('leaves ordinary text alone', () => {
    const text = 'hf_hub_download of bigcode/the-stack at main: 12 files, hf_short';
    expect(redact(text)).toBe(text);
  });

  it('is idempotent', () => {
    const once = redact('Bearer hf_abcdefghijklmnopqrstuvwxyz');
    expect(redact(once)).toBe(once);
  });
});

describe('typed errors never carry a token', () => {
  const token = 'hf_errTokenZZZZZZZZZZZZZZZZZZZZZZZZZ';

  it('in the message, the user string or the wrapped internal error', () => {
    registerSecret(token);
    const errors = [
      new AuthError(`401 with token ${token}`, { hint: `check ${token}` }),
      new HubError(`GET https://huggingface.co/x failed; sent Bearer ${token}`),
      new ManifestError('m.yaml', [`root: ${token}`]),
      toHfhpcError(new Error(`boom ${token}`)),
    ];
    for (const e of errors) {
      expect(e.message).not.toContain(token);
      expect(e.toUserString()).not.toContain(token);
      expect(e.toUserString()).toContain(REDACTED);
    }
  });
});

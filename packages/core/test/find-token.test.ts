import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { AuthError } from '../src/errors.js';
import { clearSecrets, redact } from '../src/secrets.js';
import { findToken } from '../src/find-token.js';

const T_ENV = 'hf_envTokenAAAAAAAAAAAAAAAAAAAAAAAA';
const T_LEGACY = 'hf_legacyTokenBBBBBBBBBBBBBBBBBBBBBB';
const T_PATH = 'hf_pathTokenCCCCCCCCCCCCCCCCCCCCCCCCC';
const T_HOME = 'hf_homeTokenDDDDDDDDDDDDDDDDDDDDDDDDD';
const T_XDG = 'hf_xdgTokenEEEEEEEEEEEEEEEEEEEEEEEEEE';
const T_DEFAULT = 'hf_defaultTokenFFFFFFFFFFFFFFFFFFFFFFF';

let tmp: string;
let home: string;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'hfhpc-token-'));
  home = path.join(tmp, 'home');
  const files: [string, string][] = [
    ['custom/token-file', `  ${T_PATH}\n`],
    ['hfhome/token', `${T_HOME}\n`],
    ['xdg/huggingface/token', T_XDG],
    ['home/.cache/huggingface/token', `\n${T_DEFAULT}\n\n`],
    ['empty/token', ' \n\t\n'],
  ];
  for (const [rel, text] of files) {
    await mkdir(path.dirname(path.join(tmp, rel)), { recursive: true });
    await writeFile(path.join(tmp, rel), text);
  }
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

afterEach(() => clearSecrets());

describe('findToken (real files)', () => {
  const at = (rel: string): string => path.join(tmp, rel);

  it.each([
    ['HF_TOKEN wins over everything', { HF_TOKEN: ` ${T_ENV}\n`, HUGGING_FACE_HUB_TOKEN: T_LEGACY, HF_TOKEN_PATH: 'custom/token-file' }, T_ENV, 'HF_TOKEN'],
    ['the legacy alias comes next', { HUGGING_FACE_HUB_TOKEN: T_LEGACY, HF_TOKEN_PATH: 'custom/token-file' }, T_LEGACY, 'HUGGING_FACE_HUB_TOKEN'],
    ['an empty HF_TOKEN counts as unset', { HF_TOKEN: '  ', HF_TOKEN_PATH: 'custom/token-file' }, T_PATH, 'HF_TOKEN_PATH'],
    ['then the file at HF_TOKEN_PATH', { HF_TOKEN_PATH: 'custom/token-file', HF_HOME: 'hfhome' }, T_PATH, 'HF_TOKEN_PATH'],
    ['then $HF_HOME/token', { HF_HOME: 'hfhome', XDG_CACHE_HOME: 'xdg' }, T_HOME, 'HF_HOME'],
    ['then $XDG_CACHE_HOME/huggingface/token', { XDG_CACHE_HOME: 'xdg' }, T_XDG, 'default'],
    ['then ~/.cache/huggingface/token', {}, T_DEFAULT, 'default'],
  ] as const)('%s', async (_what, vars, token, source) => {
    // Relative test paths become absolute under the temp dir.
    const env = Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, k.endsWith('TOKEN') ? v : at(v)]));
    const found = await findToken({ env, homedir: home });
    expect(found.token).toBe(token);
    expect(found.source).toBe(source);
  });

  it('a set HF_TOKEN_PATH that does not exist means no token (as huggingface_hub does)', async () => {
    const found = await findToken({ env: { HF_TOKEN_PATH: at('missing/token'), HF_HOME: at('hfhome') }, homedir: home });
    expect(found).toEqual({ source: 'none', path: at('missing/token') });
  });

  it('an empty token file means no token', async () => {
    expect(await findToken({ env: { HF_TOKEN_PATH: at('empty/token') }, homedir: home })).toEqual({ source: 'none', path: at('empty/token') });
  });

  it('HF_HUB_DISABLE_IMPLICIT_TOKEN=1 disables every source', async () => {
    for (const v of ['1', 'true', 'YES', 'on']) {
      expect(await findToken({ env: { HF_HUB_DISABLE_IMPLICIT_TOKEN: v, HF_TOKEN: T_ENV }, homedir: home })).toEqual({ source: 'none' });
    }
    expect((await findToken({ env: { HF_HUB_DISABLE_IMPLICIT_TOKEN: '0', HF_TOKEN: T_ENV }, homedir: home })).token).toBe(T_ENV);
  });

  it('expands ~ in HF_HOME', async () => {
    const found = await findToken({ env: { HF_HOME: '~/.cache/huggingface' }, homedir: home });
    expect(found.token).toBe(T_DEFAULT);
    expect(found.path).toBe(path.join(home, '.cache/huggingface/token'));
  });

  it('reports an unreadable token file as AuthError without its content', async () => {
    if (process.getuid?.() === 0) {
      // root reads anything: simulate the permission error through the seam instead.
      const readFile = async (): Promise<string> => {
        throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
      };
      await expect(findToken({ env: { HF_TOKEN_PATH: at('custom/token-file') }, homedir: home, readFile })).rejects.toThrow(AuthError);
      return;
    }
    await chmod(at('custom/token-file'), 0o000);
    try {
      const err = await findToken({ env: { HF_TOKEN_PATH: at('custom/token-file') }, homedir: home }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AuthError);
      expect(String((err as AuthError).message)).not.toContain(T_PATH);
    } finally {
      await chmod(at('custom/token-file'), 0o600);
    }
  });

  it('uses the injected readFile seam', async () => {
    const seen: string[] = [];
    const readFile = async (file: string): Promise<string> => {
      seen.push(file);
      return `${T_HOME}\n`;
    };
    const found = await findToken({ env: {}, homedir: '/nonexistent-home', readFile });
    expect(found).toEqual({ token: T_HOME, source: 'default', path: '/nonexistent-home/.cache/huggingface/token' });
    expect(seen).toEqual(['/nonexistent-home/.cache/huggingface/token']);
  });

  it('registers the token it finds, so it is redacted everywhere', async () => {
    // Not token-shaped: only the registry can catch it.
    const odd = 'plain-secret-value-123';
    expect(redact(`x ${odd} y`)).toBe(`x ${odd} y`);
    await findToken({ env: { HF_TOKEN: odd } });
    expect(redact(`x ${odd} y`)).toBe('x hf_*** y');
  });

  it('does not register when asked not to', async () => {
    const odd = 'another-secret-value-456';
    await findToken({ env: { HF_TOKEN: odd }, register: false });
    expect(redact(odd)).toBe(odd);
  });
});

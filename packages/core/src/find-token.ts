// Where the Hugging Face token comes from, in the order of the official clients
// (docs/hub-protocol.md §2). The token is read at run time by every task, never written into a
// script, and registered as a secret the moment it is found so it is redacted everywhere.
import { readFile as fsReadFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { AuthError } from './errors.js';
import { registerSecret } from './secrets.js';

export type TokenSource = 'HF_TOKEN' | 'HUGGING_FACE_HUB_TOKEN' | 'HF_TOKEN_PATH' | 'HF_HOME' | 'default' | 'none';

export interface TokenLookup {
  token?: string;
  source: TokenSource;
  /** The token file consulted (found or not); absent when the token came from the environment. */
  path?: string;
}

export interface FindTokenParams {
  /** Environment to read. Default: `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Home directory for `~`. Default: `os.homedir()`. */
  homedir?: string;
  /** Reads a token file as UTF-8. Default: `fs.promises.readFile`. */
  readFile?: (file: string) => Promise<string>;
  /** Register the token with `redact`. Default: true. */
  register?: boolean;
}

const TRUTHY = new Set(['1', 'on', 'yes', 'true']);

function expandHome(p: string, homedir: string): string {
  return p === '~' || p.startsWith('~/') ? path.join(homedir, p.slice(1)) : p;
}

/**
 * Find the token: `HF_TOKEN`, else `HUGGING_FACE_HUB_TOKEN`, else one token file: `HF_TOKEN_PATH`
 * if set, else `$HF_HOME/token`, else `$XDG_CACHE_HOME/huggingface/token`, else
 * `~/.cache/huggingface/token`. Like the official clients, the variable that is set chooses the
 * file (a missing `HF_TOKEN_PATH` does not fall back to another file), so hfhpc and `hf auth whoami`
 * always agree. Whitespace is trimmed; empty means none. `HF_HUB_DISABLE_IMPLICIT_TOKEN=1` → none.
 */
export async function findToken(params: FindTokenParams = {}): Promise<TokenLookup> {
  const env = params.env ?? process.env;
  const homedir = params.homedir ?? os.homedir();
  const readFile = params.readFile ?? ((file: string) => fsReadFile(file, 'utf8'));
  const found = (token: string, source: TokenSource, file?: string): TokenLookup => {
    if (params.register ?? true) registerSecret(token);
    return file === undefined ? { token, source } : { token, source, path: file };
  };

  if (TRUTHY.has((env.HF_HUB_DISABLE_IMPLICIT_TOKEN ?? '').trim().toLowerCase())) return { source: 'none' };
  for (const name of ['HF_TOKEN', 'HUGGING_FACE_HUB_TOKEN'] as const) {
    const value = env[name]?.trim();
    if (value) return found(value, name);
  }

  let file: string;
  let source: TokenSource;
  if (env.HF_TOKEN_PATH?.trim()) {
    [file, source] = [expandHome(env.HF_TOKEN_PATH.trim(), homedir), 'HF_TOKEN_PATH'];
  } else if (env.HF_HOME?.trim()) {
    [file, source] = [path.join(expandHome(env.HF_HOME.trim(), homedir), 'token'), 'HF_HOME'];
  } else if (env.XDG_CACHE_HOME?.trim()) {
    [file, source] = [path.join(expandHome(env.XDG_CACHE_HOME.trim(), homedir), 'huggingface', 'token'), 'default'];
  } else {
    [file, source] = [path.join(homedir, '.cache', 'huggingface', 'token'), 'default'];
  }

  let text: string;
  try {
    text = await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { source: 'none', path: file };
    throw new AuthError(`cannot read the token file ${file}: ${code ?? (err as Error).message}`, {
      hint: 'fix its permissions (chmod 600, owned by you) or set HF_TOKEN',
      cause: err,
    });
  }
  const token = text.trim();
  return token ? found(token, source, file) : { source: 'none', path: file };
}

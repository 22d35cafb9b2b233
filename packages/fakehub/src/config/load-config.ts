// The config comes as an object or a YAML (or JSON) file path; this reads and checks its
// top-level shape and tokens. Repos are checked while they are built (repo/build-repos.ts).
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { FakeHubConfig, TokenSpec } from '../types.js';
import { FakeHubConfigError } from './config-error.js';

export interface LoadedConfig {
  config: FakeHubConfig;
  /** The file path, or "(object)": named in error messages. */
  source: string;
}

function isStringList(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}

function checkTokens(tokens: unknown, problems: string[]): void {
  if (tokens === undefined) return;
  if (!Array.isArray(tokens)) {
    problems.push('tokens: must be a list');
    return;
  }
  const seen = new Set<string>();
  tokens.forEach((t: Partial<TokenSpec>, i) => {
    const where = `tokens[${i}]`;
    if (!t || typeof t !== 'object') return void problems.push(`${where}: must be an object`);
    if (typeof t.token !== 'string' || t.token === '') problems.push(`${where}.token: must be a non-empty string`);
    else if (seen.has(t.token)) problems.push(`${where}.token: given twice`);
    else seen.add(t.token);
    if (typeof t.user !== 'string' || t.user === '') problems.push(`${where}.user: must be a non-empty string`);
    for (const key of ['orgs', 'canAccessGated', 'canAccessPrivate'] as const) {
      if (t[key] !== undefined && !isStringList(t[key])) problems.push(`${where}.${key}: must be a list of strings`);
    }
  });
}

/** Read (when given a path) and check the top level. Throws FakeHubConfigError. */
export function loadConfig(params: { config: FakeHubConfig | string }): LoadedConfig {
  let raw: unknown = params.config;
  const source = typeof params.config === 'string' ? params.config : '(object)';
  if (typeof params.config === 'string') {
    let text: string;
    try {
      text = readFileSync(params.config, 'utf8');
    } catch (err) {
      throw new FakeHubConfigError(source, [`cannot read: ${(err as Error).message}`]);
    }
    try {
      raw = parse(text);
    } catch (err) {
      throw new FakeHubConfigError(source, [`not valid YAML: ${(err as Error).message}`]);
    }
  }
  const problems: string[] = [];
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new FakeHubConfigError(source, ['expected a mapping with `repos:` (and optionally `tokens:`)']);
  }
  const cfg = raw as Partial<FakeHubConfig>;
  if (!Array.isArray(cfg.repos)) problems.push('repos: must be a list');
  checkTokens(cfg.tokens, problems);
  if (problems.length) throw new FakeHubConfigError(source, problems);
  return { config: { tokens: cfg.tokens ?? [], repos: cfg.repos ?? [] }, source };
}

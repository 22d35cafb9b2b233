import { describe, expect, it } from '@jest/globals';
import { NotAllowedError } from '../src/errors.js';
import { DEFAULT_ALLOW_PREFIXES, allowPrefixProblem, checkRepoId, repoIdProblem } from '../src/allow-list.js';

describe('checkRepoId', () => {
  it.each([
    'bigcode/the-stack-dedup',
    'codeparrot/github-code-clean',
    'oscar-corpus/OSCAR-2301',
    'iohadrubin/mini_pile',
    'bigcode/a',
    'bigcode/v1.2_x',
  ])('accepts %p with the default prefixes', (repo) => {
    const [org, name] = repo.split('/');
    expect(checkRepoId(repo, DEFAULT_ALLOW_PREFIXES)).toEqual({ org, name });
  });

  it.each([
    'bigcode',
    'bigcode/',
    '/the-stack',
    'bigcode/the-stack/extra',
    'bigcode/../etc',
    'bigcode/..',
    'bigcode/a--b',
    'bigcode/a..b',
    'bigcode/-x',
    'bigcode/x-',
    'bigcode/.hidden',
    'bigcode/x.git',
    'bigcode/sp ace',
    'bigcode/x\u0000',
    'bigcode/ünï',
    'bigcode\\x',
    `bigcode/${'a'.repeat(97)}`,
    '',
  ])('refuses the malformed id %p', (repo) => {
    expect(() => checkRepoId(repo, DEFAULT_ALLOW_PREFIXES)).toThrow(NotAllowedError);
  });

  it('refuses a well-formed repo outside the allow-list, naming it, the prefixes and the fix', () => {
    let err: NotAllowedError | undefined;
    try {
      checkRepoId('evil-org/data', ['bigcode/', 'codeparrot/']);
    } catch (e) {
      err = e as NotAllowedError;
    }
    expect(err).toBeInstanceOf(NotAllowedError);
    expect(err?.exitCode).toBe(2);
    expect(err?.message).toContain('evil-org/data');
    expect(err?.message).toContain('bigcode/, codeparrot/');
    expect(err?.hint).toContain('allow_prefixes');
  });

  it('matches prefixes exactly: a longer org or a different case is not allowed', () => {
    expect(() => checkRepoId('bigcodeevil/x', ['bigcode/'])).toThrow(NotAllowedError);
    expect(() => checkRepoId('BigCode/x', ['bigcode/'])).toThrow(NotAllowedError);
    expect(checkRepoId('bigcode/the-stack-v2', ['bigcode/the-stack'])).toEqual({ org: 'bigcode', name: 'the-stack-v2' });
    expect(() => checkRepoId('bigcode/starcoder', ['bigcode/the-stack'])).toThrow(NotAllowedError);
  });

  it('explains what is wrong with a malformed id', () => {
    expect(repoIdProblem('a/b/c')).toMatch(/org\/name/);
    expect(repoIdProblem('a/x--y')).toMatch(/--/);
    expect(repoIdProblem(42)).toMatch(/got number/);
    expect(repoIdProblem('bigcode/ok')).toBeUndefined();
  });
});

describe('allowPrefixProblem', () => {
  it('accepts whole orgs and org/name-starts', () => {
    for (const p of ['bigcode/', 'oscar-corpus/', 'bigcode/the-stack']) expect(allowPrefixProblem(p)).toBeUndefined();
  });

  it('refuses prefixes that would allow other orgs or are malformed', () => {
    for (const p of ['big', '', '/', 'bigcode/../x', 'a--b/', 'bigcode//']) expect(allowPrefixProblem(p)).toBeDefined();
  });
});

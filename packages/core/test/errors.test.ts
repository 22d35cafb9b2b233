import { describe, expect, it } from '@jest/globals';
import { ExitCode, InternalError, ManifestError, UsageError, toHfhpcError } from '../src/index.js';

describe('errors', () => {
  it('carry the contract exit codes and a one-line user string with the hint', () => {
    const e = new UsageError('unknown option --shardz', { hint: 'see hfhpc plan --help' });
    expect(e.exitCode).toBe(ExitCode.BAD_INPUT);
    expect(e.code).toBe('E_USAGE');
    expect(e.toUserString()).toBe('unknown option --shardz (see hfhpc plan --help)');
    expect(e.name).toBe('UsageError');
  });

  it('ManifestError lists every problem at once', () => {
    const e = new ManifestError('m.yaml', ['datasets[0].repo: missing', 'root: not a string']);
    expect(e.problems).toHaveLength(2);
    expect(e.message).toContain('m.yaml: 2 problems');
    expect(e.exitCode).toBe(2);
  });

  it('wraps unknown throws as internal errors', () => {
    const e = toHfhpcError(new TypeError('boom'));
    expect(e).toBeInstanceOf(InternalError);
    expect(e.exitCode).toBe(ExitCode.INTERNAL);
    expect(toHfhpcError(e)).toBe(e);
  });
});

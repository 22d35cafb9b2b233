import { describe, expect, it } from '@jest/globals';
import { UsageError } from '../src/errors.js';
import { formatBytes, parseSize } from '../src/size.js';

describe('parseSize', () => {
  it.each([
    ['200GB', 200e9],
    ['200gb', 200e9],
    ['200G', 200e9],
    ['1.5TiB', 1.5 * 1024 ** 4],
    ['1.5tib', 1.5 * 1024 ** 4],
    ['512MiB', 512 * 1024 ** 2],
    ['512Mi', 512 * 1024 ** 2],
    ['1e9', 1e9],
    ['2.5e3KB', 2.5e6],
    ['1.1KB', 1100],
    ['.5G', 5e8],
    ['12 kB', 12000],
    ['  7  ', 7],
    ['100B', 100],
    ['0', 0],
    ['1PB', 1e15],
    [12345, 12345],
    [0, 0],
  ] as const)('%p → %p bytes', (input, bytes) => {
    expect(parseSize(input)).toBe(bytes);
  });

  it.each(['', 'abc', '-1', '1.5B', '12XB', '5i', '1GiBs', 'GB', '1 2GB', '1e400', '9EiB', 'NaN', '0x10'])('rejects %p with a UsageError', (input) => {
    expect(() => parseSize(input)).toThrow(UsageError);
  });

  it('rejects non-integer and negative numbers', () => {
    expect(() => parseSize(1.5)).toThrow(UsageError);
    expect(() => parseSize(-3)).toThrow(UsageError);
    expect(() => parseSize(Number.POSITIVE_INFINITY)).toThrow(UsageError);
  });

  it('names the option and shows examples', () => {
    const err = (() => {
      try {
        parseSize('lots', { what: '--shard-size' });
      } catch (e) {
        return e as UsageError;
      }
    })();
    expect(err?.message).toContain('invalid --shard-size "lots"');
    expect(err?.toUserString()).toContain('200GB');
    expect(err?.exitCode).toBe(2);
  });
});

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [999, '999 B'],
    [1024, '1 KiB'],
    [1536, '1.5 KiB'],
    [1024 ** 2 - 1, '1 MiB'],
    [1.5 * 1024 ** 4, '1.5 TiB'],
    [123.4 * 1024 ** 3, '123 GiB'],
    [-2048, '-2 KiB'],
  ])('%p → %p', (n, text) => {
    expect(formatBytes(n)).toBe(text);
  });

  it('uses SI units on request', () => {
    expect(formatBytes(200e9, { si: true })).toBe('200 GB');
    expect(formatBytes(1500, { si: true })).toBe('1.5 kB');
  });

  it('round-trips through parseSize within its precision', () => {
    for (const n of [1, 1000, 5e8, 3.3e12, 7 * 1024 ** 5]) {
      const back = parseSize(formatBytes(n).replace(' ', ''));
      expect(Math.abs(back - n) / n).toBeLessThan(0.005);
    }
  });
});

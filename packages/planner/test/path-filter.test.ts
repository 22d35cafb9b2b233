import { describe, expect, it } from '@jest/globals';
import { createPathFilter, createUnsafePathFilter } from '../src/path-filter.js';

const paths = [
  'README.md',
  '.gitattributes',
  'data/python/a.parquet',
  'data/python/sub/b.parquet',
  'data/python/NOTES.md',
  'data/java/c.parquet',
  '.hidden/d.parquet',
  'data/python.parquet',
];

const keep = (include?: string[], exclude?: string[]) => paths.filter(createPathFilter({ include, exclude }));

describe('createPathFilter', () => {
  it('keeps everything without patterns', () => {
    expect(keep()).toEqual(paths);
    expect(keep([], [])).toEqual(paths);
  });

  it('matches ** across folders and dot entries, like fast-glob with dot: true', () => {
    expect(keep(['data/python/**'])).toEqual(['data/python/a.parquet', 'data/python/sub/b.parquet', 'data/python/NOTES.md']);
    expect(keep(['**/*.parquet'])).toEqual([
      'data/python/a.parquet',
      'data/python/sub/b.parquet',
      'data/java/c.parquet',
      '.hidden/d.parquet',
      'data/python.parquet',
    ]);
    expect(keep(['.*'])).toEqual(['.gitattributes']);
  });

  it('applies exclude after include', () => {
    expect(keep(['data/**'], ['**/*.md', 'data/java/**'])).toEqual([
      'data/python/a.parquet',
      'data/python/sub/b.parquet',
      'data/python.parquet',
    ]);
    expect(keep(undefined, ['**/*.md'])).not.toContain('README.md');
  });

  it('does not let * cross a slash, supports braces and extglobs, is case-sensitive', () => {
    expect(keep(['data/*'])).toEqual(['data/python.parquet']);
    expect(keep(['data/{java,python}/*.parquet'])).toEqual(['data/python/a.parquet', 'data/java/c.parquet']);
    expect(keep(['data/python/!(a).parquet'])).toEqual([]);
    expect(keep(['data/python/@(a|x).parquet'])).toEqual(['data/python/a.parquet']);
    expect(keep(['readme.md'])).toEqual([]);
  });

  it('ignores a leading ./ in patterns, as fast-glob does', () => {
    expect(keep(['./README.md'])).toEqual(['README.md']);
  });
});

describe('createUnsafePathFilter (paths the safety check refuses)', () => {
  it('an exclude leaves a hostile path out by name, by ** across ".." segments, or by a glob', () => {
    expect(createUnsafePathFilter({})('../../etc/passwd')).toBe(true);
    expect(createUnsafePathFilter({ exclude: ['../../etc/passwd'] })('../../etc/passwd')).toBe(false);
    expect(createUnsafePathFilter({ exclude: ['**'] })('../../etc/passwd')).toBe(false);
    expect(createUnsafePathFilter({ exclude: ['**'] })('/etc/passwd')).toBe(false);
    expect(createUnsafePathFilter({ exclude: ['data/**'] })('data/../../x')).toBe(false);
    expect(createUnsafePathFilter({ exclude: ['nul\u0000x'] })('nul\u0000x')).toBe(false);
    expect(createUnsafePathFilter({ exclude: ['data/**'] })('../x')).toBe(true);
    // An include selects as written: "**" does not reach a ".." path, so it is not selected.
    expect(createUnsafePathFilter({ include: ['**'] })('../x')).toBe(false);
    expect(createUnsafePathFilter({ include: ['**'] })('/abs')).toBe(true);
  });
});

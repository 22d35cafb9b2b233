import { describe, expect, test } from '@jest/globals';
import { execa } from 'execa';
import { UsageError } from '@hfhpc/core';
import { fillTemplate, sbatchQuote, shellQuote } from '../../src/sbatch/index.js';

describe('shellQuote', () => {
  test('bash reads back exactly the original arguments', async () => {
    const args = ['/usr/bin/node', 'plain', 'with space', "it's", '$HOME', '`date`', 'a"b', '*', ';rm -rf /', '', '--x=1'];
    const r = await execa('bash', ['-c', `printf '%s\\n' ${args.map(shellQuote).join(' ')}`]);
    expect(r.stdout.split('\n')).toEqual(args);
  });

  test('leaves safe arguments bare and refuses newlines', () => {
    expect(shellQuote('/a/b-c_d.js')).toBe('/a/b-c_d.js');
    expect(() => shellQuote('a\nb')).toThrow(UsageError);
  });
});

describe('sbatchQuote', () => {
  test('bare, single-quoted, or double-quoted; never both quotes', () => {
    expect(sbatchQuote('jobName', 'hfhpc')).toBe('hfhpc');
    expect(sbatchQuote('jobName', 'my job')).toBe("'my job'");
    expect(sbatchQuote('jobName', "it's")).toBe('"it\'s"');
    expect(() => sbatchQuote('jobName', `'"`)).toThrow(/both/);
    expect(() => sbatchQuote('jobName', '')).toThrow(/empty/);
  });
});

describe('fillTemplate', () => {
  test('fills every placeholder, the same one several times too', () => {
    expect(fillTemplate('{{A}}-{{B}}-{{A}}', { A: '1', B: '2' })).toBe('1-2-1');
  });

  test('names every missing and every unused placeholder at once', () => {
    expect(() => fillTemplate('{{A}} {{C}}', { A: '1', B: '2' })).toThrow('{{C}} has no value; {{B}} is missing from the template');
  });
});

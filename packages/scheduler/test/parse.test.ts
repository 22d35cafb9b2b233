// Parsers fed with output captured from the dev cluster (Slurm 22.05).
import { describe, expect, test } from '@jest/globals';
import {
  decodeWaitStatus, expandOutputPattern, normalizeState, parseSacct, parseScriptDirectives, parseSqueue,
} from '../src/index.js';

describe('parseSqueue', () => {
  test('array tasks, a plain job, and exit statuses as raw wait statuses', () => {
    const out = ['5_0|5|0|CANCELLED|None|15|0|', '5_1|5|1|PENDING|JobArrayTaskLimit|0|0|', '1_3|1|3|FAILED|NonZeroExitCode|768|2|', '7|7|N/A|COMPLETED|None|0|0|', 'garbage', ''].join('\n');
    expect(parseSqueue(out)).toEqual([
      { jobId: '5_0', arrayJobId: '5', taskId: 0, state: 'CANCELLED', reason: 'None', exitCode: null, signal: 15, restarts: 0 },
      { jobId: '5_1', arrayJobId: '5', taskId: 1, state: 'PENDING', reason: 'JobArrayTaskLimit', exitCode: null, signal: null, restarts: 0 },
      { jobId: '1_3', arrayJobId: '1', taskId: 3, state: 'FAILED', reason: 'NonZeroExitCode', exitCode: 3, signal: null, restarts: 2 },
      { jobId: '7', arrayJobId: '7', taskId: null, state: 'COMPLETED', reason: 'None', exitCode: 0, signal: null, restarts: 0 },
    ]);
  });
});

describe('parseSacct', () => {
  test('tasks, a never-started range expanded, "CANCELLED by 0", signals', () => {
    const out = ['45_3|49|FAILED|7:0|None', '58_[2-4%2]|58|CANCELLED by 0|0:0|None', '60|60|TIMEOUT|0:15|TimeLimit', '61|61|RUNNING|0:0|None'].join('\n');
    expect(parseSacct(out).map((s) => [s.jobId, s.taskId, s.state, s.exitCode, s.signal, s.restarts])).toEqual([
      ['45_3', 3, 'FAILED', 7, null, null],
      ['58_2', 2, 'CANCELLED', 0, null, null],
      ['58_3', 3, 'CANCELLED', 0, null, null],
      ['58_4', 4, 'CANCELLED', 0, null, null],
      ['60', null, 'TIMEOUT', null, 15, null],
      ['61', null, 'RUNNING', null, null, null],
    ]);
  });
});

describe('job state helpers', () => {
  test('decodeWaitStatus and normalizeState', () => {
    expect(decodeWaitStatus(75 << 8)).toEqual({ exitCode: 75, signal: null });
    expect(decodeWaitStatus(9)).toEqual({ exitCode: null, signal: 9 });
    expect(normalizeState('CANCELLED by 1000')).toBe('CANCELLED');
    expect(normalizeState('WHATEVER')).toBeNull();
  });
});

describe('parseScriptDirectives', () => {
  test('reads --array, --output, -J, --open-mode up to the first command, with sbatch quoting', () => {
    const script = [
      '#!/bin/bash', '# a comment', "#SBATCH --array=0-3%2", "#SBATCH -J 'my job'", '#SBATCH --output="/l/%x_%A_%a.out"',
      '#SBATCH --open-mode=append', '#SBATCH --mem=4G', '', 'echo hi', '#SBATCH --error=/ignored',
    ].join('\n');
    expect(parseScriptDirectives(script)).toEqual({
      array: { indices: [0, 1, 2, 3], maxParallel: 2 }, output: '/l/%x_%A_%a.out', jobName: 'my job', openMode: 'append',
    });
    expect(parseScriptDirectives('#!/bin/sh\ntrue\n')).toEqual({ output: 'slurm-%j.out', openMode: 'truncate' });
  });

  test('expandOutputPattern', () => {
    const p = { arrayJobId: '12', taskId: 3, jobId: '15', jobName: 'x', user: 'u', host: 'h' };
    expect(expandOutputPattern({ ...p, pattern: '/l/%x-%A_%a-%j-%u@%N-100%%' })).toBe('/l/x-12_3-15-u@h-100%');
  });
});

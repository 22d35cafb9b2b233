import { describe, expect, it } from '@jest/globals';
import { MAX_SLURM_TIME_SECONDS, parseSlurmTime, slurmTimeProblem } from '../src/index.js';

describe('parseSlurmTime', () => {
  it('reads every form Slurm documents', () => {
    expect(parseSlurmTime('90')).toEqual({ seconds: 90 * 60 }); // MM
    expect(parseSlurmTime('30:15')).toEqual({ seconds: 30 * 60 + 15 }); // MM:SS
    expect(parseSlurmTime('12:00:00')).toEqual({ seconds: 12 * 3600 });
    expect(parseSlurmTime('48:00:00')).toEqual({ seconds: 48 * 3600 });
    expect(parseSlurmTime('1-12')).toEqual({ seconds: 36 * 3600 }); // D-HH
    expect(parseSlurmTime('1-12:30')).toEqual({ seconds: 36 * 3600 + 1800 });
    expect(parseSlurmTime('2-00:00:01')).toEqual({ seconds: 2 * 86400 + 1 });
    expect(parseSlurmTime('UNLIMITED')).toEqual({ seconds: Infinity });
    expect(parseSlurmTime('infinite')).toEqual({ seconds: Infinity });
  });

  it('refuses fields out of range, zero, more than a year, and anything else', () => {
    for (const bad of ['99:99', '1:60:00', '10:00:60', '2-24', '1-00:60', '0', '0:00', '99999999999999999999', '1e20', '366-00', '', '1:2:3:4', '-5', '12h', '1-', '01:00:00\n#SBATCH --x']) {
      expect({ bad, problem: slurmTimeProblem(bad) }).toEqual({ bad, problem: expect.stringContaining('is not a Slurm time limit') });
    }
    expect(slurmTimeProblem(`${MAX_SLURM_TIME_SECONDS / 60}`)).toBeUndefined();
  });
});

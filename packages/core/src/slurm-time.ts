// Slurm time limits (`--time`, `slurm.time`), checked field by field: a value Slurm would
// refuse, or read as something else, must fail at plan time rather than in sbatch or, worse,
// be rendered into a batch script.

/** The longest limit hfhpc renders: a year (Slurm's own maximum is INFINITE). */
export const MAX_SLURM_TIME_SECONDS = 365 * 86_400;

const FORMS = 'minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS, or UNLIMITED';

/**
 * Seconds of a Slurm time limit (`MM`, `MM:SS`, `HH:MM:SS`, `D-HH`, `D-HH:MM`, `D-HH:MM:SS`),
 * `Infinity` for UNLIMITED/INFINITE, or a problem description. Minutes and seconds after a
 * colon are below 60, hours after a day below 24, the whole at most a year.
 */
export function parseSlurmTime(value: string): { seconds: number } | { problem: string } {
  const v = value.trim();
  if (/^(?:UNLIMITED|INFINITE)$/i.test(v)) return { seconds: Infinity };
  const bad = (why: string): { problem: string } => ({ problem: `"${value}" is not a Slurm time limit (${why}; use ${FORMS})` });
  let m = /^(\d{1,7})-(\d{1,2})(?::(\d{1,2}))?(?::(\d{1,2}))?$/.exec(v);
  let seconds: number;
  if (m) {
    const [d, h, min = 0, s = 0] = m.slice(1).map((x) => (x === undefined ? undefined : Number(x))) as number[];
    if (h > 23) return bad('hours after a day count must be below 24');
    if (min > 59 || s > 59) return bad('minutes and seconds must be below 60');
    seconds = ((d * 24 + h) * 60 + min) * 60 + s;
  } else if ((m = /^(\d{1,7})(?::(\d{1,2}))?(?::(\d{1,2}))?$/.exec(v))) {
    const parts = m.slice(1).filter((x) => x !== undefined).map(Number);
    if (parts.length === 1) seconds = parts[0] * 60; // MM
    else if (parts.length === 2) {
      if (parts[1] > 59) return bad('seconds must be below 60');
      seconds = parts[0] * 60 + parts[1]; // MM:SS
    } else {
      if (parts[1] > 59 || parts[2] > 59) return bad('minutes and seconds must be below 60');
      seconds = (parts[0] * 60 + parts[1]) * 60 + parts[2]; // HH:MM:SS
    }
  } else {
    return bad('not one of its forms');
  }
  if (seconds === 0) return bad('zero');
  if (seconds > MAX_SLURM_TIME_SECONDS) return bad('longer than a year');
  return { seconds };
}

/** The problem with a Slurm time limit, or undefined when it is one. */
export function slurmTimeProblem(value: string): string | undefined {
  const r = parseSlurmTime(value);
  return 'problem' in r ? r.problem : undefined;
}

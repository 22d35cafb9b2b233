// The `#SBATCH` options of a script that a local run honours: which tasks, where output goes.
// sbatch reads them from the lines after `#!` up to the first command; so does this.
import { parseArraySpec } from './array-spec.js';

export interface ScriptDirectives {
  /** From `--array`/`-a`; absent: one plain job. */
  array?: { indices: number[]; maxParallel?: number };
  /** `--output`/`-o` pattern; absent: Slurm's `slurm-%j.out`. */
  output: string;
  /** `--error`/`-e` pattern; absent: with the output. */
  error?: string;
  /** `--job-name`/`-J`; absent: the script's file name. */
  jobName?: string;
  openMode: 'append' | 'truncate';
  /** `--cpus-per-task`/`-c`: a task sees it as `SLURM_CPUS_PER_TASK`. */
  cpusPerTask?: number;
}

const LONG: Record<string, keyof Omit<ScriptDirectives, 'array'> | 'array'> = {
  '--array': 'array', '--output': 'output', '--error': 'error', '--job-name': 'jobName', '--open-mode': 'openMode',
  '--cpus-per-task': 'cpusPerTask',
};
const SHORT: Record<string, keyof typeof LONG> = { '-a': '--array', '-o': '--output', '-e': '--error', '-J': '--job-name', '-c': '--cpus-per-task' };

// Words of one directive line; sbatch strips '…' and "…" quotes and knows no escapes.
function words(text: string): string[] {
  return [...text.matchAll(/(?:[^\s'"]+|'[^']*'|"[^"]*")+/g)].map((m) => m[0].replace(/'([^']*)'|"([^"]*)"/g, '$1$2'));
}

/** Read the directives from a script's text (unknown options are ignored: they steer Slurm only). */
export function parseScriptDirectives(script: string): ScriptDirectives {
  const found: Record<string, string> = {};
  for (const line of script.split('\n').slice(1)) {
    const t = line.trim();
    if (t !== '' && !t.startsWith('#')) break;
    const m = /^#SBATCH\s+(.*)$/.exec(t);
    if (!m) continue;
    const w = words(m[1]);
    for (let i = 0; i < w.length; i++) {
      let name = w[i];
      let value: string | undefined;
      const eq = name.indexOf('=');
      if (name.startsWith('--') && eq > 0) {
        value = name.slice(eq + 1);
        name = name.slice(0, eq);
      } else if (/^-[A-Za-z].+/.test(name)) {
        value = name.slice(2);
        name = name.slice(0, 2);
      }
      const long = SHORT[name] ?? name;
      if (!(long in LONG)) continue;
      value ??= w[++i];
      if (value !== undefined) found[LONG[long]] = value;
    }
  }
  const openMode = found.openMode === 'append' ? 'append' : 'truncate'; // Slurm's default is truncate
  return {
    ...(found.array !== undefined ? { array: parseArraySpec(found.array) } : {}),
    output: found.output ?? 'slurm-%j.out',
    ...(found.error !== undefined ? { error: found.error } : {}),
    ...(found.jobName !== undefined ? { jobName: found.jobName } : {}),
    openMode,
    ...(found.cpusPerTask !== undefined && /^\d+$/.test(found.cpusPerTask) ? { cpusPerTask: Number(found.cpusPerTask) } : {}),
  };
}

export interface ExpandPatternParams {
  pattern: string;
  /** Array id (`%A`); the job id for a plain job. */
  arrayJobId: string;
  /** Task index (`%a`); null for a plain job (Slurm writes 4294967294). */
  taskId: number | null;
  /** This task's own id (`%j`, `%J`). */
  jobId: string;
  jobName: string;
  user: string;
  host: string;
}

/** Slurm's filename patterns: %A %a %j %J %x %u %N %n %t %%; others stay as written. */
export function expandOutputPattern(p: ExpandPatternParams): string {
  return p.pattern.replace(/%(%|[AajJxuNnt])/g, (_m, c: string) => {
    switch (c) {
      case '%': return '%';
      case 'A': return p.arrayJobId;
      case 'a': return p.taskId === null ? '4294967294' : String(p.taskId);
      case 'j': case 'J': return p.jobId;
      case 'x': return p.jobName;
      case 'u': return p.user;
      case 'N': return p.host;
      default: return '0'; // %n node index, %t task index: one node, one task
    }
  });
}

// `--help` as a real child process: wrapped at word boundaries, to the terminal's width when
// stdout is a terminal (a pseudo-terminal from util-linux `script`), 80 columns otherwise.
import { describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = async (file: string, args: string[]): Promise<{ exitCode: number; stdout: string }> => {
  try {
    const { stdout } = await promisify(execFile)(file, args);
    return { exitCode: 0, stdout };
  } catch (err) {
    const e = err as { code?: number; stdout?: string };
    return { exitCode: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '' };
  }
};

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const COMMANDS = ['', 'plan', 'work', 'run', 'status', 'verify', 'cleanup', 'doctor'];
const SCRIPT = ['/usr/bin/script', '/bin/script'].find((p) => existsSync(p));

// Every word of a description, each on one line: a word cut at the column would be missing.
const WORDS = ['cluster', 'download.sbatch', 'workers', 'partial', 'locking'];

describe('hfhpc --help (child process)', () => {
  it.each(COMMANDS)('%s --help in a pipe: 80 columns, no word cut', async (cmd) => {
    const r = await run(process.execPath, [BIN, ...(cmd ? [cmd] : []), '--help']);
    expect(r.exitCode).toBe(0);
    for (const line of r.stdout.split('\n')) expect(line.length).toBeLessThanOrEqual(80);
    // A cut word leaves a fragment at the start of the next line's text column, e.g. "r as a Slurm".
    expect(r.stdout).not.toMatch(/\bcluste\n/);
    if (cmd === '') for (const w of WORDS) expect(r.stdout).toContain(w);
  });

  (SCRIPT ? it : it.skip)('on a 140-column terminal the help uses the width', async () => {
    const r = await run(SCRIPT!, ['-qfc', `stty cols 140 rows 50; ${process.execPath} ${BIN} --help`, '/dev/null']);
    const lines = r.stdout.replace(/\r/g, '').split('\n');
    expect(lines.some((l) => l.length > 80)).toBe(true);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(140);
    expect(r.stdout).toMatch(/hfhpc plan +resolve, pin, list, shard and store a plan; render download\.sbatch; --submit runs sbatch/);
  });
});

// The one seam through which the scheduler code runs Slurm's commands, so tests can put fakes
// on PATH or pass a function instead.

export interface ExecResult {
  /** Exit code; 127 when the program could not be started (not installed). */
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  /** Environment of the command (PATH decides which sbatch runs). Default: this process's. */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Kill the command after this many ms. Default 60000 (Slurm's own RPC timeouts are shorter). */
  timeoutMs?: number;
}

/** Run `file args…` and report how it ended; never throws for a non-zero exit. */
export type Exec = (file: string, args: readonly string[], options?: ExecOptions) => Promise<ExecResult>;

/** The default `Exec`: execa without a shell, output collected as text. */
export const execaExec: Exec = async (file, args, options = {}) => {
  // execa is loaded by the first command run through here, not at import.
  const { execa } = await import('execa');
  const r = await execa(file, args, {
    reject: false,
    env: options.env,
    extendEnv: options.env === undefined,
    cwd: options.cwd,
    timeout: options.timeoutMs ?? 60_000,
    stdin: 'ignore',
  });
  if (r.exitCode === undefined) {
    // Not started (ENOENT…) or killed: no exit code of its own.
    const why = r.timedOut ? `timed out after ${options.timeoutMs ?? 60_000} ms` : r.originalMessage || r.shortMessage;
    return { exitCode: r.timedOut ? 124 : 127, stdout: String(r.stdout ?? ''), stderr: `${String(r.stderr ?? '')}${why}`.trim() };
  }
  return { exitCode: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr) };
};

// Putting a rendered script on disk, with the log folder Slurm needs but never creates itself
// (a missing one fails the task with JobLaunchFailure before the script runs).
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface WriteSbatchScriptParams {
  /** Where the script goes. */
  scriptPath: string;
  /** The rendered text. */
  script: string;
  /** The script's log folder (its `outputDir`); created with parents. */
  outputDir: string;
}

/** Create the log folder and the script's folder, then write the script (user's umask applies). */
export async function writeSbatchScript(params: WriteSbatchScriptParams): Promise<void> {
  await mkdir(params.outputDir, { recursive: true });
  await mkdir(dirname(params.scriptPath), { recursive: true });
  await writeFile(params.scriptPath, params.script, { mode: 0o755 });
}

// Putting a rendered script on disk, with the log folder Slurm needs but never creates itself
// (a missing one fails the task with JobLaunchFailure before the script runs).
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { replaceAtomically, writeNewFile } from '@hfhpc/core';

export interface WriteSbatchScriptParams {
  /** Where the script goes. */
  scriptPath: string;
  /** The rendered text. */
  script: string;
  /** The script's log folder (its `outputDir`); created with parents. */
  outputDir: string;
}

/**
 * Create the log folder and the script's folder (a no-op when the caller made them), then write
 * the script through a new temp file and a rename: a symlink planted at its name is replaced,
 * never written through (user's umask applies).
 */
export async function writeSbatchScript(params: WriteSbatchScriptParams): Promise<void> {
  await mkdir(params.outputDir, { recursive: true });
  await mkdir(dirname(params.scriptPath), { recursive: true });
  await replaceAtomically(params.scriptPath, (temp) => writeNewFile(temp, params.script, 0o755));
}

// The batch-script templates in slurm-templates/ and the one way placeholders are filled.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '@hfhpc/core';

export type SbatchTemplateName = 'download-array' | 'verify';

/** slurm-templates/ of this checkout (the same from src/ and dist/: four levels up). */
export const DEFAULT_TEMPLATE_DIR = fileURLToPath(new URL('../../../../slurm-templates/', import.meta.url));

export interface ReadSbatchTemplateParams {
  name: SbatchTemplateName;
  /** Folder holding `<name>.sbatch`; a site may keep its own copies. Default: the repo's slurm-templates/. */
  dir?: string;
}

/** The text of `<dir>/<name>.sbatch`. */
export async function readSbatchTemplate(params: ReadSbatchTemplateParams): Promise<string> {
  const path = join(params.dir ?? DEFAULT_TEMPLATE_DIR, `${params.name}.sbatch`);
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read the batch-script template ${path}: ${(err as Error).message}`, {
      cause: err,
      hint: 'point the template folder at a directory holding download-array.sbatch and verify.sbatch',
    });
  }
}

const PLACEHOLDER_RE = /\{\{([A-Z_]+)\}\}/g;

/**
 * Replace every `{{NAME}}` in `template` with `values.NAME`. A placeholder without a value, or
 * a value no placeholder asks for, is an error: a template and its renderer must not drift apart
 * silently (a site's edited template included).
 */
export function fillTemplate(template: string, values: Readonly<Record<string, string>>): string {
  const used = new Set<string>();
  const missing = new Set<string>();
  const out = template.replace(PLACEHOLDER_RE, (whole, name: string) => {
    if (!Object.hasOwn(values, name)) {
      missing.add(name);
      return whole;
    }
    used.add(name);
    return values[name];
  });
  const unused = Object.keys(values).filter((k) => !used.has(k));
  if (missing.size > 0 || unused.length > 0) {
    const problems = [
      ...[...missing].map((n) => `{{${n}}} has no value`),
      ...unused.map((n) => `{{${n}}} is missing from the template`),
    ];
    throw new UsageError(`batch-script template does not match its renderer: ${problems.join('; ')}`, {
      hint: 'compare the template with slurm-templates/ of this hfhpc version',
    });
  }
  return out;
}

// Loading a manifest: parse (YAML, or JSON by extension or content), then validate in three
// steps (schema → normalize → rules) and report every problem at once in one ManifestError
// naming the file, the dataset entry, the field and the line.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type { Document, LineCounter } from 'yaml';
import { ManifestError, UsageError } from './errors.js';
import { ProblemList, fieldLabel, type ManifestProblem } from './manifest-problems.js';
import { checkManifestSchema } from './manifest-schema.js';
import { normalizeManifest } from './manifest-normalize.js';
import { checkManifestRules } from './manifest-rules.js';
import type { Manifest } from './manifest-types.js';

export type { DatasetSpec, Manifest, SlurmSettings } from './manifest-types.js';

// yaml (a large module graph) loads on the first manifest parsed, not in every process that imports
// core: `hfhpc work` never parses one, and its start-up is part of every task's time.
let yamlModule: typeof import('yaml') | undefined;
const yaml = (): typeof import('yaml') => (yamlModule ??= createRequire(import.meta.url)('yaml') as typeof import('yaml'));

export interface ParseManifestOptions {
  /** Environment for `$VAR` in `root` and `slurm.output_dir`. Default: `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Home directory for `~`. Default: `os.homedir()`. */
  homedir?: string;
}

function isJson(text: string, file: string): boolean {
  return path.extname(file).toLowerCase() === '.json' || /^\s*\{/.test(text);
}

function lineOf(doc: Document, lines: LineCounter, at: ManifestProblem['at']): number | undefined {
  // The deepest node that exists on the path: for an unknown key, its value; for a missing
  // one, its parent.
  for (let n = at.length; n >= 1; n--) {
    const node = doc.getIn(at.slice(0, n), true) as { range?: [number, number, number] } | undefined;
    if (node && typeof node === 'object' && node.range) return lines.linePos(node.range[0]).line;
  }
  return undefined;
}

/**
 * Parse and validate manifest text. `file` names it in errors and anchors relative paths.
 * Returns the normalized manifest; throws `ManifestError(file, problems)` listing every problem.
 */
export function parseManifest(text: string, file: string, options: ParseManifestOptions = {}): Manifest {
  const abs = path.resolve(file);
  const { LineCounter, parseDocument } = yaml();
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  let raw: unknown;
  if (isJson(text, file)) {
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw new ManifestError(file, [`not valid JSON: ${(err as Error).message}`]);
    }
    // JSON.parse keeps the last of two equal keys without a word; a typo'd copy must not pass.
    const dupes = doc.errors.filter((e) => e.code === 'DUPLICATE_KEY');
    if (dupes.length) throw new ManifestError(file, dupes.map((e) => `duplicate key (line ${lines.linePos(e.pos[0]).line})`));
  } else {
    if (doc.errors.length) {
      throw new ManifestError(file, doc.errors.map((e) => `not valid YAML (line ${lines.linePos(e.pos[0]).line}): ${e.message.split('\n')[0]}`));
    }
    try {
      raw = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      throw new ManifestError(file, [`not valid YAML: ${(err as Error).message}`]);
    }
  }

  const problems = new ProblemList();
  const schema = checkManifestSchema(raw, problems);
  const normalized = normalizeManifest(schema, { file: abs, env: options.env ?? process.env, homedir: options.homedir ?? os.homedir() }, problems);
  checkManifestRules(schema, normalized, problems);
  if (problems.size) {
    const repoOf = (i: number): string | undefined => schema.datasets?.[i]?.repo;
    const docOk = doc.errors.length === 0;
    // In file order, so the list reads top to bottom alongside the manifest.
    const located = problems.items.map((p, i) => ({ p, i, line: docOk ? lineOf(doc, lines, p.at) : undefined }));
    located.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || a.i - b.i);
    throw new ManifestError(
      file,
      located.map(({ p, line }) => `${fieldLabel(p.at, repoOf)}: ${p.message}${line ? ` (line ${line})` : ''}`),
    );
  }
  return { path: abs, sha256: createHash('sha256').update(text).digest('hex'), ...normalized.manifest };
}

/** Read and validate a manifest file (YAML or JSON). Throws `UsageError` if it cannot be read, `ManifestError` if invalid. */
export async function loadManifest(file: string, options: ParseManifestOptions = {}): Promise<Manifest> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot read manifest ${file}: ${code === 'ENOENT' ? 'no such file' : (code ?? (err as Error).message)}`, {
      hint: 'give --manifest the path of a YAML or JSON manifest (see datasets/README.md)',
      cause: err,
    });
  }
  return parseManifest(text, file, options);
}

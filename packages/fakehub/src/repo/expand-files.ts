// FileSpec / GenerateSpec from the config → file nodes, collecting every problem found.
import { parseSize } from '../config/parse-size.js';
import type { FileSpec, GenerateSpec, SizeSpec } from '../types.js';
import { deriveSeed } from './derive.js';
import type { FileNode } from './model.js';

/** Files at least this big are LFS unless the spec says otherwise (the Hub's usual rule). */
export const LFS_THRESHOLD = 10 << 20;

const TEXT_EXT = /\.(md|txt|json|jsonl|ya?ml|csv|tsv|py|js|ts|toml|cfg|ini|gitattributes|gitignore)$/i;

function isCompressible(path: string, literal: boolean): boolean {
  const name = path.slice(path.lastIndexOf('/') + 1);
  return literal || TEXT_EXT.test(name) || name.startsWith('.git');
}

export interface ExpandParams {
  repoId: string;
  commitSha: string;
  files?: FileSpec[];
  generate?: GenerateSpec | GenerateSpec[];
  /** Where in the config this is, for messages (`repos[0].commits[1]`). */
  where: string;
  problems: string[];
}

function sizeOf(value: SizeSpec | undefined, where: string, problems: string[]): number {
  if (value === undefined) return 0;
  const n = parseSize({ value });
  if (n === undefined) problems.push(`${where}: size must be a non-negative integer or "<n> KiB|MiB|GiB…", got ${JSON.stringify(value)}`);
  return n ?? 0;
}

function seedOf(value: unknown, fallback: number, where: string, problems: string[]): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    problems.push(`${where}: seed must be a non-negative integer, got ${JSON.stringify(value)}`);
    return fallback;
  }
  return value;
}

function fromFileSpec(p: ExpandParams, spec: FileSpec, where: string): FileNode | undefined {
  if (!spec || typeof spec !== 'object' || typeof spec.path !== 'string' || spec.path === '') {
    p.problems.push(`${where}: path must be a non-empty string`);
    return undefined;
  }
  if (spec.text !== undefined && typeof spec.text !== 'string') p.problems.push(`${where}: text must be a string`);
  if (spec.text !== undefined && spec.size !== undefined) p.problems.push(`${where}: give text or size, not both`);
  if (spec.lfs !== undefined && typeof spec.lfs !== 'boolean') p.problems.push(`${where}: lfs must be true or false`);
  if (typeof spec.text === 'string') {
    const bytes = Buffer.from(spec.text, 'utf8');
    return {
      path: spec.path,
      source: { kind: 'text', bytes },
      size: bytes.length,
      lfs: spec.lfs === true,
      compressible: true,
      lastCommit: p.commitSha,
    };
  }
  const size = sizeOf(spec.size, where, p.problems);
  const seed = seedOf(spec.seed, deriveSeed({ key: `${p.repoId}\0${spec.path}` }), where, p.problems);
  return {
    path: spec.path,
    source: { kind: 'generated', seed, size },
    size,
    lfs: typeof spec.lfs === 'boolean' ? spec.lfs : size >= LFS_THRESHOLD,
    compressible: isCompressible(spec.path, false),
    lastCommit: p.commitSha,
  };
}

function fromGenerate(p: ExpandParams, g: GenerateSpec, where: string, out: FileNode[]): void {
  if (!g || typeof g !== 'object' || !Number.isSafeInteger(g.count) || g.count < 0) {
    p.problems.push(`${where}: count must be a non-negative integer`);
    return;
  }
  if (g.perDir !== undefined && (!Number.isSafeInteger(g.perDir) || g.perDir < 1)) {
    p.problems.push(`${where}: perDir must be a positive integer`);
    return;
  }
  const prefix = g.prefix ?? 'data/';
  const ext = g.ext ?? '.bin';
  const [lo, hi] = Array.isArray(g.size)
    ? [sizeOf(g.size[0], where, p.problems), sizeOf(g.size[1], where, p.problems)]
    : [sizeOf(g.size ?? 1024, where, p.problems), sizeOf(g.size ?? 1024, where, p.problems)];
  if (hi < lo) p.problems.push(`${where}: size range [min, max] has max < min`);
  const base = seedOf(g.seed, deriveSeed({ key: `${p.repoId}\0generate\0${prefix}` }), where, p.problems);
  const width = Math.max(5, String(Math.max(0, g.count - 1)).length);
  for (let i = 0; i < g.count; i++) {
    const dir = g.perDir ? `part-${String(Math.floor(i / g.perDir)).padStart(5, '0')}/` : '';
    const path = `${prefix}${dir}file-${String(i).padStart(width, '0')}${ext}`;
    const seed = base + i;
    // A cheap deterministic spread over [lo, hi] (no per-file hashing for 100k files).
    const size = hi > lo ? lo + (Math.imul(seed ^ 0x5bd1e995, 0x27d4eb2d) >>> 0) % (hi - lo + 1) : lo;
    out.push({
      path,
      source: { kind: 'generated', seed, size },
      size,
      lfs: typeof g.lfs === 'boolean' ? g.lfs : size >= LFS_THRESHOLD,
      compressible: isCompressible(path, false),
      lastCommit: p.commitSha,
    });
  }
}

/** All file nodes a commit spec adds, in spec order. */
export function expandFiles(p: ExpandParams): FileNode[] {
  const out: FileNode[] = [];
  if (p.files !== undefined && !Array.isArray(p.files)) p.problems.push(`${p.where}.files: must be a list`);
  (Array.isArray(p.files) ? p.files : []).forEach((spec, i) => {
    const node = fromFileSpec(p, spec, `${p.where}.files[${i}]`);
    if (node) out.push(node);
  });
  const gens = p.generate === undefined ? [] : Array.isArray(p.generate) ? p.generate : [p.generate];
  gens.forEach((g, i) => fromGenerate(p, g, `${p.where}.generate[${i}]`, out));
  const seen = new Set<string>();
  for (const f of out) {
    if (seen.has(f.path)) p.problems.push(`${p.where}: path ${JSON.stringify(f.path)} given twice`);
    seen.add(f.path);
  }
  return out;
}

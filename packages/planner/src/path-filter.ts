// include/exclude globs from the manifest, matched with fast-glob's semantics: picomatch with
// the options fast-glob passes it by default, plus `dot: true`: in a dataset repo a file
// under a dot folder is data like any other, and `**` must reach it.
import picomatch from 'picomatch';

/** The picomatch options fast-glob derives from its defaults (fast-glob `Provider`), with dot files. */
export const FAST_GLOB_MATCH_OPTIONS: picomatch.PicomatchOptions = {
  dot: true,
  matchBase: false,
  nobrace: false,
  nocase: false,
  noext: false,
  noglobstar: false,
  posix: true,
  strictSlashes: false,
};

export interface PathFilterParams {
  /** Keep only paths matching one of these; empty or absent keeps every path. */
  include?: readonly string[];
  /** Drop paths matching one of these (applied after `include`). Default none. */
  exclude?: readonly string[];
}

/** A predicate over repo-relative paths (`data/python/x.parquet`). */
export function createPathFilter(params: PathFilterParams = {}): (path: string) => boolean {
  const include = compile(params.include);
  const exclude = compile(params.exclude);
  return (path) => (include === undefined || include(path)) && (exclude === undefined || !exclude(path));
}

/**
 * The same selection for a path the safety check refuses (`../../etc/passwd`, `/etc/x`, a name
 * with NUL): include/exclude apply first, so a hostile path left out by them does not stop the
 * plan. Glob `**` never crosses a `.`/`..` segment, so for an exclude such segments count as
 * ordinary names (`**` and `dir/**` leave them out), and an exclude equal to the path matches it.
 * Leaving more out is always safe; an include is matched as written.
 */
export function createUnsafePathFilter(params: PathFilterParams = {}): (path: string) => boolean {
  const include = compile(params.include);
  const exclude = compile(params.exclude);
  const literal = new Set(params.exclude ?? []);
  const excluded = (p: string): boolean =>
    exclude !== undefined && (literal.has(p) || exclude(p) || exclude(p.split('/').map((seg) => (seg === '.' || seg === '..' ? '\u0000' : seg)).join('/')));
  return (path) => (include === undefined || include(path)) && !excluded(path);
}

function compile(globs: readonly string[] | undefined): ((path: string) => boolean) | undefined {
  if (!globs || globs.length === 0) return undefined;
  // fast-glob drops a leading "./" from patterns; repo paths never carry one.
  return picomatch(globs.map((g) => g.replace(/^(?:\.\/)+/, '')), FAST_GLOB_MATCH_OPTIONS);
}

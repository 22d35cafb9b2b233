// core's store owns every SQL statement: no source file of another package (fakehub, the test
// Hub, aside) may hold SQL, open SQLite itself, or get the raw connection from the store. A
// schema change then means editing `packages/core/src/store` only. The scan parses each file
// (TypeScript's own parser), so comments and prose are not mistaken for SQL; it looks at:
// - string and template literals that read as SQL (upper-case keywords in SQL's word order),
// - `better-sqlite3` imported (statically or dynamically),
// - `.prepare(…)` / `.pragma(…)` calls (better-sqlite3's statement and pragma entry points),
// - `<…store>.db` (the store's raw connection),
// - a callback with a parameter given to `.read` / `.write` / `.readAsync` / `.writeAsync` (the
//   store hands its connection to the callback; store functions called inside need none).
// A bare `BEGIN` or `END` literal is not counted as SQL: they are Slurm mail types too.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import fg from 'fast-glob';
import ts from 'typescript';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

/** Where SQL may live: core's store; fakehub is the test Hub, not part of hfhpc. */
const OWNERS = ['packages/core/src/store/', 'packages/fakehub/'];

const SQL_PATTERNS: [string, RegExp][] = [
  ['SELECT … FROM', /\bSELECT\b[\s\S]*\bFROM\b/],
  ['INSERT INTO', /\bINSERT\s+(?:OR\s+[A-Z]+\s+)?INTO\b/],
  ['UPDATE … SET', /\bUPDATE\s+\w+\s+SET\b/],
  ['DELETE FROM', /\bDELETE\s+FROM\b/],
  ['PRAGMA', /\bPRAGMA\s+\w+\s*(?:=|\(|;|$)/],
  ['BEGIN', /\bBEGIN\s+(?:IMMEDIATE|EXCLUSIVE|DEFERRED|TRANSACTION)\b/],
  ['COMMIT/ROLLBACK', /^\s*(?:COMMIT|ROLLBACK|SAVEPOINT\s+\w+|RELEASE\s+\w+)\s*;?\s*$/],
  ['CREATE/DROP/ALTER', /\b(?:CREATE\s+(?:TEMP\s+|UNIQUE\s+)?(?:TABLE|INDEX|TRIGGER|VIEW)|DROP\s+(?:TABLE|INDEX|TRIGGER|VIEW)|ALTER\s+TABLE)\b/],
  ['sqlite_master', /\bsqlite_(?:master|schema)\b/],
];

const TX_METHODS = new Set(['read', 'write', 'readAsync', 'writeAsync']);

interface Finding {
  file: string;
  line: number;
  what: string;
}

/** Every place in `text` (a source file) that holds SQL or reaches SQLite past the store. */
function sqlFindings(file: string, text: string): Finding[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, file.endsWith('x') ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  const found: Finding[] = [];
  const add = (node: ts.Node, what: string): void => {
    found.push({ file, line: sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1, what });
  };
  const literal = (node: ts.Node, value: string): void => {
    for (const [name, re] of SQL_PATTERNS) if (re.test(value)) return add(node, `SQL in a string (${name}): ${value.trim().slice(0, 60)}`);
  };
  const visit = (node: ts.Node): void => {
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) {
      literal(node, node.text);
      if (ts.isStringLiteral(node) && node.text === 'better-sqlite3' && (ts.isImportDeclaration(node.parent) || ts.isCallExpression(node.parent) || ts.isExportDeclaration(node.parent))) {
        add(node, 'imports better-sqlite3');
      }
    } else if (ts.isTemplateExpression(node)) {
      // The literal parts joined around placeholders: `SELECT ${cols} FROM t` reads as SQL.
      literal(node, [node.head.text, ...node.templateSpans.map((s) => s.literal.text)].join(' ? '));
    } else if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression)) {
      const name = node.expression.name.text;
      if (name === 'prepare' || name === 'pragma') add(node, `.${name}() call`);
      const fn = node.arguments[0];
      if (TX_METHODS.has(name) && fn && (ts.isArrowFunction(fn) || ts.isFunctionExpression(fn)) && fn.parameters.length > 0) {
        add(node, `.${name}() callback takes the raw connection`);
      }
    } else if (ts.isPropertyAccessExpression(node) && node.name.text === 'db' && /store$/i.test(node.expression.getText(sf))) {
      add(node, `${node.getText(sf)}: the store's raw connection`);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

describe('core store owns every SQL statement', () => {
  it('no source file outside packages/core/src/store (and fakehub) holds SQL or reaches the raw connection', () => {
    const files = fg.sync('packages/*/src/**/*.{ts,mts,cts,js,mjs,cjs}', { cwd: REPO, ignore: ['**/node_modules/**', '**/dist/**'] });
    const scanned = files.filter((f) => !OWNERS.some((o) => f.startsWith(o)));
    // The scan covers the packages that talk to the store (not an empty glob passing by accident).
    expect(scanned.some((f) => f.startsWith('packages/planner/src/'))).toBe(true);
    expect(scanned.some((f) => f.startsWith('packages/worker/src/'))).toBe(true);
    expect(scanned.some((f) => f.startsWith('packages/cli/src/'))).toBe(true);
    const findings = scanned.flatMap((f) => sqlFindings(f, readFileSync(path.join(REPO, f), 'utf8')));
    expect(findings.map((x) => `${x.file}:${x.line}: ${x.what}`)).toEqual([]);
  });

  it('the scan finds each kind of leak in a planted file, and not the prose and regexes that look alike', () => {
    const planted = [
      "import Database from 'better-sqlite3';",
      "const a = db.prepare('SELECT id FROM plans WHERE id = ?').get(1);",
      'const b = `SELECT ${cols} FROM files WHERE shard_id = ?`;',
      "db.exec('INSERT INTO probe (at) VALUES (1)');",
      "db.exec(\"UPDATE shards SET state = 'pending'\");",
      "const c = 'DELETE FROM events WHERE at < ?';",
      "db.pragma('journal_mode = DELETE');",
      "db.exec('BEGIN IMMEDIATE');",
      "db.exec('COMMIT');",
      "const d = 'CREATE TABLE probe (at INTEGER)';",
      "const e = \"SELECT 1 FROM sqlite_master WHERE type = 'table'\";",
      'const f = params.store.db;',
      'store.read((db) => 1);',
      'await store.writeAsync(function (db) { return 1; });',
    ].join('\n');
    const lines = sqlFindings('planted.ts', planted).map((x) => x.line);
    expect(new Set(lines)).toEqual(new Set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]));

    const alike = [
      '// BEGIN IMMEDIATE in a comment, SELECT x FROM y in prose',
      "const mail = ['NONE', 'BEGIN', 'END', 'FAIL'];",
      "const ok = { detail: 'PRAGMA quick_check: ok' };",
      'const m = /^(\\d+)$/.exec(text);',
      'store.read(() => planRollup(store, {}));',
      "process.stdout.write('select the files from the list');",
      'const db = { path: cfg.dbPath };',
    ].join('\n');
    expect(sqlFindings('alike.ts', alike)).toEqual([]);
  });
});

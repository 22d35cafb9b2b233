// `hfhpc plan` as a real child process against fakehub, for repos with hostile paths and for
// listing progress: include/exclude apply before the path-safety check, a refusal names every
// hostile path, and nothing from the Hub reaches the terminal raw.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { cacheLayout } from '@hfhpc/core';
import { setup, type TestEnv } from './plan-helpers.js';

const BIN = fileURLToPath(new URL('../../cli/dist/bin.js', import.meta.url));
// No raw C0/C1 control, DEL or bidi control (newlines separate lines).
// eslint-disable-next-line no-control-regex
const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

let t: TestEnv;
afterEach(async () => {
  await t.close();
});

async function hfhpc(args: string[]) {
  return execa(process.execPath, [BIN, 'plan', ...args], { reject: false, extendEnv: false, env: { ...t.env, PATH: process.env.PATH } });
}

describe('hfhpc plan with hostile paths (child process)', () => {
  beforeEach(async () => {
    t = await setup();
  });

  it('names every hostile path, escaped, and stores nothing', async () => {
    const hostile = ['../../etc/passwd', '/etc/shadow', '../evil\u202etxt.exe', 'nul\u0000byte', 'x/\u001b[2Jclear'];
    for (const path of hostile) t.hub.faults.hostileTreeEntry({ repo: 'org/many', path });
    const m = await t.manifest({ datasets: [{ repo: 'org/many' }] });
    const r = await hfhpc(['--manifest', m]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('5 unsafe paths in org/many');
    for (const shown of ['"../../etc/passwd"', '"/etc/shadow"', '"../evil\\u202etxt.exe"', '"nul\\u0000byte"', '"x/\\u001b[2Jclear"']) expect(r.stderr).toContain(shown);
    expect(r.stderr).toContain('exclude: [');
    expect(r.stderr).not.toMatch(RAW);
    expect(existsSync(t.dbPath)).toBe(false);
  });

  it('names at most 20 and counts the rest', async () => {
    for (let i = 0; i < 25; i++) t.hub.faults.hostileTreeEntry({ repo: 'org/many', path: `../x${i}` });
    const m = await t.manifest({ datasets: [{ repo: 'org/many' }] });
    const r = await hfhpc(['--manifest', m]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('25 unsafe paths in org/many');
    const message = r.stderr.split('\n').find((l) => l.startsWith('hfhpc: '))!.split(' (hfhpc never writes')[0];
    expect(message.match(/"\.\.\/x\d+"/g)).toHaveLength(20);
    expect(message).toContain('; and 5 more');
  });

  it('plans the safe rest when the hostile paths are excluded by name (the hint\'s entries)', async () => {
    t.hub.faults.hostileTreeEntry({ repo: 'org/many', path: '../../etc/passwd' });
    t.hub.faults.hostileTreeEntry({ repo: 'org/many', path: 'x/../evil\u202etxt.exe' });
    const m0 = await t.manifest({ datasets: [{ repo: 'org/many' }] });
    const refused = await hfhpc(['--manifest', m0]);
    expect(refused.exitCode).toBe(2);
    // Copy the exclude list from the hint into the manifest, as a user would (YAML flow list).
    const list = /exclude: (\[[^\]]*\])/.exec(refused.stderr)![1];
    const yamlManifest = `allow_prefixes: ["org/"]\nroot: ${JSON.stringify(t.root)}\ndatasets:\n  - repo: org/many\n    exclude: ${list}\n`;
    const { writeFile } = await import('node:fs/promises');
    const m = `${t.dir}/manifest.yaml`;
    await writeFile(m, yamlManifest);
    const r = await hfhpc(['--manifest', m, '--json']);
    expect(r.stderr).not.toMatch(RAW);
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ plan_id: 1, files: 55 });
    expect(r.stderr).toMatch(/2 unsafe path\(s\) left out by include\/exclude: "\.\.\/\.\.\/etc\/passwd", "x\/\.\.\/evil\\u202etxt\.exe"/);
    const commit = JSON.parse(r.stdout).datasets[0].commit;
    const tree = JSON.parse(await readFile(cacheLayout(t.root, 'org/many').treePath(commit), 'utf8'));
    expect(Object.keys(tree.files)).not.toContain('../../etc/passwd');
    expect(Object.keys(tree.files)).toHaveLength(55);
  });

  it('exclude ["**"] leaves out a ".." path too; an include that does not select it does the same', async () => {
    t.hub.faults.hostileTreeEntry({ repo: 'org/many', path: '../../etc/passwd' });
    t.hub.faults.hostileTreeEntry({ repo: 'org/twin', path: 'data/../../../x' });
    const m = await t.manifest({ datasets: [{ repo: 'org/many', include: ['data/train/**'], exclude: ['data/**/../**'] }, { repo: 'org/twin', exclude: ['**'] }] });
    const r = await hfhpc(['--manifest', m, '--json']);
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout).datasets.map((d: { files: number }) => d.files)).toEqual([40, 0]);
  });

  it('control characters from the manifest are escaped in the error, and from the Hub in the log', async () => {
    const m = await t.manifest({ datasets: [{ repo: 'org/ma\u202eny\u0000', revision: 'ma\u2066in\u001b[31m' }] });
    const r = await hfhpc(['--manifest', m]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('org/ma\\u202eny\\u0000');
    expect(r.stderr).not.toMatch(RAW);
    // A file name with a bidi override is a safe path: planned, and logged escaped.
    t.hub.faults.hostileTreeEntry({ repo: 'org/twin', path: 'exe.\u202etxt' });
    const ok = await hfhpc(['--manifest', await t.manifest({ datasets: [{ repo: 'org/twin', include: ['*.parquet', 'exe*'] }] }), '--log-level', 'debug']);
    expect(ok.exitCode).toBe(0);
    expect(ok.stderr + ok.stdout).not.toMatch(RAW);
  });

  it('an exclude that misses the hostile path still refuses it', async () => {
    t.hub.faults.hostileTreeEntry({ repo: 'org/many', path: 'data/../../x' });
    const m = await t.manifest({ datasets: [{ repo: 'org/many', exclude: ['big/**'] }] });
    const r = await hfhpc(['--manifest', m]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('unsafe path "data/../../x" in org/many');
  });
});

describe('hfhpc plan listing progress (child process)', () => {
  beforeEach(async () => {
    t = await setup({ pageSize: 10 });
  });

  it('logs pages and files listed so far while a slow listing runs', async () => {
    // 55 files + folders at 10 a page: 7 pages, each answered after 1.5 s.
    t.hub.faults.slowFirstByte({ endpoint: 'tree', delayMs: 1500 });
    const m = await t.manifest({ datasets: [{ repo: 'org/many' }] });
    const r = await hfhpc(['--manifest', m, '--dry-run']);
    expect(r.exitCode).toBe(0);
    const lines = r.stderr.split('\n').filter((l) => /org\/many: listing, \d+ page\(s\) and \d+ file\(s\) so far/.test(l));
    expect(lines.length).toBeGreaterThanOrEqual(1);
    const [, pages, files] = /listing, (\d+) page\(s\) and (\d+) file\(s\)/.exec(lines.at(-1)!)!.map(Number);
    expect(pages).toBeGreaterThan(0);
    expect(files).toBeGreaterThan(0);
    expect(r.stderr).toMatch(/org\/many: 55 files listed in \d+ page\(s\), 55 selected/);
  });
});

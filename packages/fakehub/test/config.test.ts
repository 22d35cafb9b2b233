// The config: YAML files, generator shorthand, commits and branches, and error reports.
import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FakeHubConfigError, loadConfig } from '../src/index.js';
import { buildRepos } from '../src/repo/build-repos.js';
import { RepoStore } from '../src/repo/repo-store.js';

const dir = mkdtempSync(join(tmpdir(), 'fakehub-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function storeFrom(yaml: string): RepoStore {
  const file = join(dir, `c${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, yaml);
  const { config, source } = loadConfig({ config: file });
  return new RepoStore(buildRepos({ specs: config.repos, source }));
}

const YAML = `
repos:
  - id: org/gen
    commits:
      - files:
          - { path: README.md, text: "hi" }
          - { path: big.bin, size: 10MiB }
          - { path: small.bin, size: 10485759 }
        generate: { count: 100000, prefix: "data/", size: 16, perDir: 1000, ext: .jsonl }
      - branch: dev
        files: [{ path: dev.txt, text: dev }]
      - sha: ${'ab'.repeat(20)}
        delete: [small.bin]
`;

describe('loading', () => {
  it('expands generators (100,000 files without 100,000 lines) and applies commits per branch', () => {
    const store = storeFrom(YAML);
    const repo = store.get('org/gen');
    const main = store.resolveRevision(repo, 'main')!;
    expect(main.sha).toBe('ab'.repeat(20));
    expect(main.files.size).toBe(100_000 + 2);
    expect(main.files.has('small.bin')).toBe(false);
    expect(main.files.has('data/part-00099/file-99999.jsonl')).toBe(true);
    expect(main.files.get('big.bin')?.lfs).toBe(true); // >= 10 MiB
    const dev = store.resolveRevision(repo, 'dev')!;
    expect(dev.files.has('dev.txt')).toBe(true);
    expect(dev.files.has('small.bin')).toBe(true);
    expect(dev.files.get('small.bin')?.lfs).toBe(false); // one byte under the threshold
    expect(store.resolveRevision(repo, 'HEAD')?.sha).toBe(main.sha);
    // Unchanged files keep the commit that introduced them.
    expect(main.files.get('README.md')?.lastCommit).toBe(repo.history[0].sha);
  });

  it('derives the same commit shas and seeds on every load', () => {
    const a = storeFrom(YAML).get('org/gen');
    const b = storeFrom(YAML).get('org/gen');
    expect(a.history.map((c) => c.sha)).toEqual(b.history.map((c) => c.sha));
    expect(a.history[0].sha).toMatch(/^[0-9a-f]{40}$/);
    expect(a.history[0].files.get('big.bin')?.source).toEqual(b.history[0].files.get('big.bin')?.source);
  });

  it('reports every problem at once, naming where it is', () => {
    let err: unknown;
    try {
      storeFrom(`
repos:
  - id: not-a-repo-id
  - id: org/a
    files: [{ path: x, size: "3 parsecs" }, { path: x, text: t }]
  - id: org/b
    commits: [{ sha: nope, files: [{ path: y }] }]
    gated: sometimes
`);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FakeHubConfigError);
    const problems = (err as FakeHubConfigError).problems;
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^repos\[0\]\.id:/),
        expect.stringMatching(/^repos\[1\]\.commits\[0\]\.files\[0\]: size/),
        expect.stringMatching(/given twice/),
        expect.stringMatching(/^repos\[2\]\.gated:/),
        expect.stringMatching(/^repos\[2\]\.commits\[0\]\.sha:/),
      ]),
    );
  });

  it('refuses a file that is not YAML, or a config without repos', () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'repos: [unclosed');
    expect(() => loadConfig({ config: bad })).toThrow(/not valid YAML/);
    expect(() => loadConfig({ config: { tokens: [] } as never })).toThrow(/repos: must be a list/);
  });

  it('the demo hub config loads', () => {
    const { config, source } = loadConfig({ config: fileURLToPath(new URL('../../../datasets/demo-hub.yaml', import.meta.url)) });
    const store = new RepoStore(buildRepos({ specs: config.repos, source }));
    const stack = store.resolveRevision(store.get('bigcode/the-stack-demo'), 'main')!;
    const lfsBig = [...stack.files.values()].filter((f) => f.lfs && f.size >= 10 << 20);
    expect(lfsBig).toHaveLength(2);
    expect(stack.files.size).toBeGreaterThanOrEqual(24);
    expect(store.get('codeparrot/github-code-demo').history).toHaveLength(1);
  });
});

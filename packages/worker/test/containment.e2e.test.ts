// Containment through the real CLI: symlinks planted in the cache (at blobs/, the repo folder,
// refs/, _hfhpc/plans, a partial or a blob file) are refused by `hfhpc plan`, `hfhpc work` and
// `hfhpc run --local` child processes, and nothing is written outside the root; with the
// manifest's allow_symlinked_dirs a symlinked blobs/ is used.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { lstat, mkdir, readFile, readdir, rm, stat, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { cacheLayout, listShards, openStore } from '@hfhpc/core';
import type { FakeHub, FakeHubConfig } from '@hfhpc/fakehub';
import { checkCache, contentRequests, runCli, runWork, useSharedHub, workspace, type PlannedFile, type Workspace } from './helpers/e2e.js';

const REPO = 'bigcode/contain';
const config: FakeHubConfig = {
  repos: [
    {
      id: REPO,
      files: [
        { path: 'README.md', text: '# contained\n' },
        { path: 'data/train.bin', size: '1MiB', lfs: true },
        { path: 'data/valid.bin', size: '200KiB', lfs: true },
      ],
    },
  ],
};

let hub: FakeHub;
let ws: Workspace | undefined;
useSharedHub(config, { started: (h) => (hub = h), workspace: () => ws });

/** A workspace whose database is the default one under the root, plus a folder outside it. */
function setup(extraManifest = ''): { w: Workspace; manifest: string; outside: string; layout: ReturnType<typeof cacheLayout> } {
  const w = (ws = workspace());
  w.dbPath = join(w.root, '_hfhpc', 'state.sqlite');
  const manifest = join(w.dir, 'manifest.yaml');
  writeFileSync(manifest, `allow_prefixes: [bigcode/]\nroot: ${w.root}\n${extraManifest}datasets:\n  - repo: ${REPO}\n`);
  const outside = join(w.dir, 'outside');
  mkdirSync(outside);
  mkdirSync(w.root);
  return { w, manifest, outside, layout: cacheLayout(w.root, REPO) };
}

function planned(): PlannedFile[] {
  return hub.files(REPO).map((path) => {
    const info = hub.fileInfoSync(REPO, path);
    return { repo: REPO, path, size: info.size, blob: info.blob, lfs: Boolean(info.lfs) };
  });
}

/** Every file under `dir` with the sha256 of its bytes (links listed as links, not followed). */
function snapshotOf(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const p = join(e.parentPath, e.name);
    out[p] = e.isFile() ? createHash('sha256').update(readFileSync(p)).digest('hex') : e.isDirectory() ? 'dir' : 'other';
  }
  return out;
}

async function plan(manifest: string): Promise<{ code: number; stderr: string }> {
  return runCli(['plan', '--manifest', manifest, '--hub-url', hub.hubUrl, '--shards', '1']).done;
}

function shardStates(w: Workspace): string[][] {
  const store = openStore({ path: w.dbPath });
  try {
    return listShards(store, 1).map((s) => [s.state, String(s.owner)]);
  } finally {
    store.close();
  }
}

/** The one-line refusal: exit 1, the link named, the fix given; the shard given back. */
function expectRefused(res: { code: number; stderr: string }, link: string): void {
  expect(res.code).toBe(1);
  expect(res.stderr).toContain(`refusing ${link}: it is a symlink`);
  expect(res.stderr).toContain(`remove the link (rm ${link})`);
}

describe('containment: planted symlinks in the cache (real processes)', () => {
  it('blobs/ → a folder outside: `hfhpc work` refuses before any request, writes nothing there, gives the shard back; once removed, it completes', async () => {
    const { w, manifest, outside, layout } = setup();
    expect((await plan(manifest)).code).toBe(0);
    await mkdir(layout.repoDir, { recursive: true });
    await symlink(outside, layout.blobsDir);
    hub.resetRequests();
    const res = await runWork(w, hub, ['--task-id', '0']).done;
    expectRefused(res, layout.blobsDir);
    expect(res.stderr).toContain('allow_symlinked_dirs: [blobs]');
    expect(await readdir(outside)).toEqual([]);
    expect(contentRequests(hub).size).toBe(0);
    expect(shardStates(w)).toEqual([['pending', 'null']]);

    await rm(layout.blobsDir);
    const again = await runWork(w, hub, ['--task-id', '0']).done;
    expect({ code: again.code, stderr: again.code === 0 ? '' : again.stderr }).toEqual({ code: 0, stderr: '' });
    expect(await checkCache({ root: w.root, hub, complete: planned() })).toEqual([]);
    expect(await readdir(outside)).toEqual([]);
  });

  it('the repo folder → a folder outside: `hfhpc work` refuses it; the folder outside keeps exactly its files', async () => {
    const { w, manifest, outside, layout } = setup();
    expect((await plan(manifest)).code).toBe(0);
    // The plan wrote refs/ and trees/; the folder is swapped for a link to a copy-shaped folder.
    await rm(layout.repoDir, { recursive: true });
    await mkdir(join(outside, 'blobs'));
    writeFileSync(join(outside, 'blobs', 'unrelated'), 'not ours');
    await symlink(outside, layout.repoDir);
    const before = snapshotOf(outside);
    const res = await runWork(w, hub, ['--task-id', '0']).done;
    expectRefused(res, layout.repoDir);
    expect(res.stderr).toContain('allow_symlinked_dirs: [repo_folder]');
    expect(snapshotOf(outside)).toEqual(before);
    expect(contentRequests(hub).size).toBe(0);
  });

  it('refs/ → a folder outside: refused before the ref is rewritten', async () => {
    const { w, manifest, outside, layout } = setup();
    expect((await plan(manifest)).code).toBe(0);
    await rm(layout.refsDir, { recursive: true });
    await symlink(outside, layout.refsDir);
    const res = await runWork(w, hub, ['--task-id', '0']).done;
    expectRefused(res, layout.refsDir);
    expect(res.stderr).not.toContain('allow_symlinked_dirs');
    expect(await readdir(outside)).toEqual([]);
  });

  // Each claim downloads into a partial of its own, created exclusively: the shared legacy name
  // is never opened for writing, and only a re-claim looks at earlier partials (lstat first: a
  // link there is refused, see shard/own-files.ts's sizeOf).
  it('blobs/<etag>.incomplete → a file outside: never opened; the blob comes from the claim’s own partial; the file keeps its bytes', async () => {
    const { w, manifest, outside, layout } = setup();
    expect((await plan(manifest)).code).toBe(0);
    const big = planned().find((f) => f.path === 'data/train.bin')!;
    const victim = join(outside, 'victim.bin');
    writeFileSync(victim, 'precious bytes of somebody else\n');
    await mkdir(layout.blobsDir, { recursive: true });
    await symlink(victim, layout.incompletePath(big.blob));
    const res = await runWork(w, hub, ['--task-id', '0', '--concurrency', '1']).done;
    expect(res.code).toBe(0);
    expect(readFileSync(victim, 'utf8')).toBe('precious bytes of somebody else\n');
    const blob = await lstat(layout.blobPath(big.blob));
    expect(blob.isFile()).toBe(true);
    expect(blob.size).toBe(big.size);
    expect((await lstat(layout.incompletePath(big.blob))).isSymbolicLink()).toBe(true);
  });

  it('blobs/<etag> → a file outside: not taken as the blob, not read, not removed through', async () => {
    const { w, manifest, outside, layout } = setup();
    expect((await plan(manifest)).code).toBe(0);
    const small = planned().find((f) => f.path === 'data/valid.bin')!;
    const victim = join(outside, 'victim.bin');
    writeFileSync(victim, Buffer.alloc(small.size, 7)); // the right size, so a size check alone would take it
    await mkdir(layout.blobsDir, { recursive: true });
    await symlink(victim, layout.blobPath(small.blob));
    const res = await runWork(w, hub, ['--task-id', '0']).done;
    expectRefused(res, layout.blobPath(small.blob));
    expect(readFileSync(victim)).toEqual(Buffer.alloc(small.size, 7));
  });

  it('_hfhpc/plans → a folder outside: `hfhpc run --local` refuses the plan before writing anything', async () => {
    const { w, manifest, outside } = setup();
    await mkdir(join(w.root, '_hfhpc'));
    await symlink(outside, join(w.root, '_hfhpc', 'plans'));
    const res = await runCli(['run', '--manifest', manifest, '--local', '-j', '2', '--hub-url', hub.hubUrl]).done;
    expectRefused(res, join(w.root, '_hfhpc', 'plans'));
    expect(await readdir(outside)).toEqual([]);
    expect(existsSync(w.dbPath)).toBe(false);
    expect(hub.requests).toHaveLength(0); // refused before the first request
  });

  it('blobs/ → a folder outside: `hfhpc run --local` refuses at plan time, before any request; nothing written', async () => {
    const { manifest, outside, layout } = setup();
    await mkdir(layout.repoDir, { recursive: true });
    await symlink(outside, layout.blobsDir);
    const res = await runCli(['run', '--manifest', manifest, '--local', '-j', '2', '--hub-url', hub.hubUrl]).done;
    expectRefused(res, layout.blobsDir);
    expect(await readdir(outside)).toEqual([]);
    expect(await readdir(layout.repoDir)).toEqual(['blobs']);
    expect(hub.requests).toHaveLength(0);
  });

  it('allow_symlinked_dirs: [blobs]: a symlinked blobs/ (another filesystem) is used by `run --local`, and the snapshot resolves through it', async () => {
    const { w, manifest, outside, layout } = setup('allow_symlinked_dirs: [blobs]\n');
    await mkdir(layout.repoDir, { recursive: true });
    await symlink(outside, layout.blobsDir);
    const res = await runCli(['run', '--manifest', manifest, '--local', '-j', '2', '--hub-url', hub.hubUrl]).done;
    expect({ code: res.code, stderr: res.code === 0 ? '' : res.stderr }).toEqual({ code: 0, stderr: '' });
    const files = planned();
    expect((await readdir(outside)).sort()).toEqual([...new Set(files.map((f) => f.blob))].sort());
    expect((await lstat(layout.blobsDir)).isSymbolicLink()).toBe(true);
    const commit = hub.commitSha(REPO);
    for (const f of files) {
      expect((await stat(layout.snapshotPath(commit, f.path))).size).toBe(f.size);
      const want = f.lfs ? createHash('sha256') : createHash('sha1').update(`blob ${f.size}\0`);
      expect(want.update(await readFile(layout.snapshotPath(commit, f.path))).digest('hex')).toBe(f.blob);
    }
    // Another folder is still refused under the same opt-in.
    await rm(layout.snapshotsDir, { recursive: true });
    await mkdir(join(w.dir, 'elsewhere'));
    await symlink(join(w.dir, 'elsewhere'), layout.snapshotsDir);
    const again = await runCli(['run', '--manifest', manifest, '--local', '-j', '1', '--hub-url', hub.hubUrl, '--force']).done;
    expectRefused(again, layout.snapshotsDir);
    expect(await readdir(join(w.dir, 'elsewhere'))).toEqual([]);
  });
});

// Batch scripts and their log folder under the root: never written through a planted symlink.
import { mkdtempSync, rmSync } from 'node:fs';
import { lstat, mkdir, readFile, readdir, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { UnsafeCacheError } from '@hfhpc/core';
import { renderPlanScripts } from '../../src/render-plan-scripts.js';
import { writeSbatchScript } from '../../src/sbatch/index.js';

let dir = '';
let root = '';
let outside = '';
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hfhpc-script-'));
  root = join(dir, 'root');
  outside = join(dir, 'outside');
  await mkdir(root);
  await mkdir(outside);
  await writeFile(join(outside, 'victim.sh'), 'echo mine\n');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const render = () =>
  renderPlanScripts({ planId: 1, root, dbPath: join(root, '_hfhpc', 'state.sqlite'), hubUrl: 'http://127.0.0.1:1', indices: [0, 1], maxArraySize: 1001, slurm: {}, nodePath: '/usr/bin/node', hfhpcBin: '/opt/hfhpc/bin.js' });

describe('writing batch scripts (containment)', () => {
  it('a link planted at the script name is replaced by the script; its target keeps its bytes', async () => {
    const scriptPath = join(root, 'download.sbatch');
    await symlink(join(outside, 'victim.sh'), scriptPath);
    await writeSbatchScript({ scriptPath, script: '#!/bin/bash\necho ok\n', outputDir: join(root, 'logs') });
    expect((await lstat(scriptPath)).isFile()).toBe(true);
    expect(await readFile(scriptPath, 'utf8')).toBe('#!/bin/bash\necho ok\n');
    expect((await stat(scriptPath)).mode & 0o100).toBe(0o100);
    expect(await readFile(join(outside, 'victim.sh'), 'utf8')).toBe('echo mine\n');
  });

  it.each([['_hfhpc'], ['_hfhpc/plans'], ['_hfhpc/plans/1'], ['_hfhpc/plans/1/logs']])('a link planted at %s is refused; nothing is written outside', async (at) => {
    await mkdir(join(root, at, '..'), { recursive: true });
    await symlink(outside, join(root, at));
    await expect(render()).rejects.toThrow(UnsafeCacheError);
    expect(await readdir(outside)).toEqual(['victim.sh']);
  });

  it('writes the scripts and the log folder when the folders are real', async () => {
    const [s] = await render();
    expect(s?.path).toBe(join(root, '_hfhpc', 'plans', '1', 'download.sbatch'));
    expect((await lstat(join(root, '_hfhpc', 'plans', '1', 'logs'))).isDirectory()).toBe(true);
  });
});

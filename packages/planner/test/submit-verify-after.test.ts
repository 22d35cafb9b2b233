// plan --verify-after: the verify job is submitted after the download array with
// --dependency=afterok, through a fake sbatch on PATH that records its arguments.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startFakeHub, type FakeHub } from '@hfhpc/fakehub';
import { runCli } from '../../ops/test/status/cli.js';

const TOKEN = 'hf_verifyAfterSecret0123456789';
let hub: FakeHub;
let dir: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  hub = await startFakeHub({ config: { repos: [{ id: 'bigcode/va', files: [{ path: 'a.txt', text: 'a' }, { path: 'b.txt', text: 'bb' }] }] }, token: TOKEN, hashCacheDir: false });
  dir = mkdtempSync(path.join(tmpdir(), 'hfhpc-va-'));
  const bin = path.join(dir, 'bin');
  mkdirSync(bin);
  writeFileSync(path.join(bin, 'sbatch'), `#!/bin/sh\necho "$@" >> "${dir}/sbatch.log"\nn=$(wc -l < "${dir}/sbatch.log")\necho "$((500 + n))"\n`);
  // No cluster here: MaxArraySize falls back to the default.
  writeFileSync(path.join(bin, 'scontrol'), '#!/bin/sh\nexit 1\n');
  for (const f of ['sbatch', 'scontrol']) chmodSync(path.join(bin, f), 0o755);
  writeFileSync(path.join(dir, 'm.yaml'), 'allow_prefixes: [bigcode/]\nroot: ./root\nslurm:\n  partition: dl\n  account: proj1\ndatasets:\n  - repo: bigcode/va\n');
  env = { PATH: `${bin}:${process.env.PATH}`, HF_TOKEN: TOKEN };
});
afterAll(async () => {
  await hub.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('plan --verify-after', () => {
  it('needs --submit (exit 2, nothing written)', async () => {
    const r = await runCli(['plan', '--manifest', path.join(dir, 'm.yaml'), '--hub-url', hub.hubUrl, '--verify-after'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--verify-after needs --submit');
    expect(existsSync(path.join(dir, 'root', '_hfhpc', 'state.sqlite'))).toBe(false);
  });

  it('submits verify.sbatch with afterok on the array, with the plan\'s Slurm settings and no token', async () => {
    const r = await runCli(['plan', '--manifest', path.join(dir, 'm.yaml'), '--hub-url', hub.hubUrl, '--submit', '--verify-after', '--json'], env);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { plan_id: number; job_ids: string[]; verify_job_id: string };
    expect(out).toMatchObject({ job_ids: ['501'], verify_job_id: '502' });
    const root = path.join(dir, 'root');
    const script = path.join(root, '_hfhpc', 'plans', String(out.plan_id), 'verify.sbatch');
    const calls = readFileSync(path.join(dir, 'sbatch.log'), 'utf8').trim().split('\n');
    expect(calls[1]).toBe(`--parsable --dependency=afterok:501 ${script}`);
    const text = readFileSync(script, 'utf8');
    expect(text).toContain('#SBATCH --partition=dl');
    expect(text).toContain('#SBATCH --account=proj1');
    expect(text).toContain('#SBATCH --job-name=hfhpc-verify');
    expect(text).toMatch(new RegExp(` verify --db ${path.join(root, '_hfhpc', 'state.sqlite')} --root ${root}\\n`));
    expect(text).not.toContain(TOKEN);
    expect(existsSync(path.join(root, '_hfhpc', 'plans', String(out.plan_id), 'logs'))).toBe(true);
  });
});

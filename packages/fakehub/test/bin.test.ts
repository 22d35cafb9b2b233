// The hfhpc-fakehub binary (built code): ready file once listening, clean stop on signals,
// exit 2 on a bad config.
import { afterAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'fakehub-bin-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[]) {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, stderr: () => stderr };
}

async function waitForFile(file: string, exited: Promise<unknown>): Promise<void> {
  let done = false;
  void exited.then(() => (done = true));
  while (!existsSync(file)) {
    if (done) throw new Error('fakehub exited before it was ready');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('hfhpc-fakehub', () => {
  it('writes the ready file atomically once both ports listen, serves, and stops on SIGTERM', async () => {
    const config = join(dir, 'repos.yaml');
    writeFileSync(config, 'repos:\n  - id: acme/data\n    gated: manual\n    files: [{ path: a.txt, text: hello }]\n');
    const ready = join(dir, 'ready.json');
    const p = run(['--config', config, '--port', '0', '--cdn-port', '0', '--ready-file', ready]);
    await waitForFile(ready, p.exited);
    const info = JSON.parse(readFileSync(ready, 'utf8'));
    expect(info.repos).toEqual([{ id: 'acme/data', gated: 'manual', private: false }]);
    expect(info.hubUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(info.cdnUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(info.cdnUrl).not.toBe(info.hubUrl);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const res = await fetch(`${info.hubUrl}/api/datasets/acme/data`);
    expect(((await res.json()) as { gated: unknown }).gated).toBe('manual');
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    await expect(fetch(`${info.hubUrl}/api/datasets/acme/data`)).rejects.toThrow();
  });

  it('--resolve-budget, --no-rate-limit-headers, --conn-rate and --stats-file', async () => {
    const config = join(dir, 'budget.yaml');
    writeFileSync(config, 'repos:\n  - id: acme/data\n    files: [{ path: a.txt, text: hello }]\n');
    const ready = join(dir, 'budget-ready.json');
    const stats = join(dir, 'stats.json');
    const p = run(['--config', config, '--ready-file', ready, '--resolve-budget', '2/1h', '--no-rate-limit-headers', '--conn-rate', '50MB/s', '--stats-file', stats]);
    await waitForFile(ready, p.exited);
    const { hubUrl } = JSON.parse(readFileSync(ready, 'utf8'));
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await fetch(`${hubUrl}/datasets/acme/data/resolve/main/a.txt`));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 429]);
    expect(answers[2].headers.get('retry-after')).toMatch(/^\d+$/);
    expect(answers.map((a) => a.headers.get('ratelimit'))).toEqual([null, null, null]);
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    expect(JSON.parse(readFileSync(stats, 'utf8'))).toMatchObject({ resolvesServed: 2, resolvesLimited: 1, hubRequests: 3 });
  });

  it('exits 2 naming the option when --conn-rate or --resolve-budget is malformed', async () => {
    const config = join(dir, 'ok.yaml');
    writeFileSync(config, 'repos:\n  - id: acme/data\n    files: [{ path: a.txt, text: hello }]\n');
    const a = run(['--config', config, '--conn-rate', 'fast']);
    expect(await a.exited).toBe(2);
    expect(a.stderr()).toContain('--conn-rate');
    const b = run(['--config', config, '--resolve-budget', '40 per 10s']);
    expect(await b.exited).toBe(2);
    expect(b.stderr()).toContain('--resolve-budget');
  });

  it('exits 2 naming the problem when the config is bad', async () => {
    const config = join(dir, 'bad.yaml');
    writeFileSync(config, 'repos:\n  - id: nope\n');
    const p = run(['--config', config]);
    expect(await p.exited).toBe(2);
    expect(p.stderr()).toMatch(/repos\[0\]\.id/);
    const q = run(['--port', 'x']);
    expect(await q.exited).toBe(2);
  });
});

// `hfhpc doctor`'s hub check as a real process: a server that answers 404 (not a Hub, e.g. a
// wrong --hub-url) fails the check and the run; fakehub's dataset listing passes.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startFakeHub, type FakeHub } from '@hfhpc/fakehub';
import type { DoctorReport } from '../../src/doctor/index.js';
import { runCli } from '../status/cli.js';

let hub: FakeHub;
let notHub: Server;
let notHubUrl: string;
let dir: string;

beforeAll(async () => {
  hub = await startFakeHub({ config: { repos: [{ id: 'bigcode/x', files: [{ path: 'a', text: 'a' }] }] }, hashCacheDir: false });
  notHub = createServer((_req, res) => res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>Not Found</h1>'));
  await new Promise<void>((resolve) => notHub.listen(0, '127.0.0.1', resolve));
  notHubUrl = `http://127.0.0.1:${(notHub.address() as AddressInfo).port}`;
  dir = mkdtempSync(path.join(tmpdir(), 'hfhpc-doctor-hub-'));
});

afterAll(async () => {
  await hub.stop();
  await new Promise((resolve) => notHub.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

async function hubCheck(hubUrl: string) {
  const r = await runCli(['doctor', '--json', '--root', path.join(dir, 'root'), '--hub-url', hubUrl], { HF_TOKEN: '', HF_TOKEN_PATH: path.join(dir, 'no-token') });
  const report = JSON.parse(r.stdout) as DoctorReport;
  return { code: r.code, report, hub: report.checks.find((c) => c.id === 'hub')! };
}

describe('hfhpc doctor: the hub check (child process)', () => {
  it('a URL that answers 404 is a failure, naming the status and the fix; exit 1', async () => {
    const r = await hubCheck(notHubUrl);
    expect(r.hub).toMatchObject({ status: 'fail', detail: expect.stringContaining('HTTP 404'), fix: expect.stringContaining('--hub-url') });
    expect(r.report.ok).toBe(false);
    expect(r.code).toBe(1);
  });

  it('a Hub that lists datasets passes', async () => {
    const r = await hubCheck(hub.hubUrl);
    expect(r.hub).toMatchObject({ status: 'ok', detail: expect.stringContaining('HTTP 200') });
  });
});

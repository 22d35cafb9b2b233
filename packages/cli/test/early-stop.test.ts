// A stop signal that reaches `hfhpc work` before the worker's own signal watch is installed
// (node still loading the CLI) ends it with 75, not 128 + 15: nothing was claimed yet, and a
// batch script requeues on 75. Real child processes of the built code.
import { describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const EARLY_STOP = fileURLToPath(new URL('../dist/early-stop.js', import.meta.url));

function run(script: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code, signal) => resolve({ code, signal, stderr }));
  });
}

describe('early stop (before the worker watches signals)', () => {
  it.each(['SIGTERM', 'SIGINT', 'SIGUSR1'])('%s while starting: exit 75 with one line, not killed by the signal', async (sig) => {
    const r = await run(`const m = await import(${JSON.stringify(EARLY_STOP)}); m.installEarlyStop(); process.kill(process.pid, '${sig}'); setTimeout(() => {}, 10000);`);
    expect(r).toMatchObject({ code: 75, signal: null });
    expect(r.stderr).toBe(`hfhpc: ${sig} received before the task started; nothing claimed, exiting (exit 75)\n`);
  });

  it('once removed (the worker took over), the signal is no longer turned into exit 75 here', async () => {
    const r = await run(`const m = await import(${JSON.stringify(EARLY_STOP)}); m.installEarlyStop(); m.removeEarlyStop(); process.kill(process.pid, 'SIGTERM'); setTimeout(() => {}, 10000);`);
    expect(r).toMatchObject({ code: null, signal: 'SIGTERM' });
    expect(r.stderr).toBe('');
  });
});

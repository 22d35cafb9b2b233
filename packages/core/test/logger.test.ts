import { afterEach, describe, expect, it } from '@jest/globals';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { HubError, UsageError } from '../src/errors.js';
import { createLogger, shortHostname } from '../src/logger.js';
import { clearSecrets, registerSecret } from '../src/secrets.js';

const NOW = new Date('2026-11-28T13:00:00.123Z');
const now = (): Date => NOW;

class Capture extends Writable {
  chunks: string[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.chunks.push(chunk.toString());
    done();
  }
  get lines(): string[] {
    return this.chunks.join('').split('\n').filter(Boolean);
  }
}

// winston hands entries to its transports through streams: let them drain.
const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

afterEach(() => clearSecrets());

describe('createLogger text format', () => {
  it('writes one human line with time, level, context, message and fields', async () => {
    const out = new Capture();
    const log = createLogger({ stream: out, now, context: { taskId: 3, host: 'node12' } });
    log.info('claimed shard', { shard: 7, owner: '123_3@node12:99', note: 'two words' });
    await settle();
    expect(out.lines).toEqual(['2026-11-28T13:00:00Z info [task 3 node12] claimed shard shard=7 owner=123_3@node12:99 note="two words"']);
  });

  it('adds context later through child loggers', async () => {
    const out = new Capture();
    const log = createLogger({ stream: out, now, context: { host: 'n1' } });
    log.child({ planId: 4 }).child({ taskId: 0 }).warn('slow');
    log.info('no plan yet');
    await settle();
    expect(out.lines).toEqual(['2026-11-28T13:00:00Z warn [plan 4 task 0 n1] slow', '2026-11-28T13:00:00Z info [n1] no plan yet']);
  });

  it('filters by level, and quiet keeps only errors', async () => {
    const out = new Capture();
    const log = createLogger({ stream: out, now, level: 'warn' });
    log.info('hidden');
    log.debug('hidden');
    log.warn('shown');
    const quiet = createLogger({ stream: out, now, level: 'debug', quiet: true });
    quiet.warn('hidden too');
    quiet.error('shown too');
    await settle();
    expect(out.lines.map((l) => l.split(' ').slice(1).join(' '))).toEqual(['warn shown', 'error shown too']);
  });

  it('keeps one entry on one line and shows errors by message and code', async () => {
    const out = new Capture();
    const log = createLogger({ stream: out, now });
    log.error('bad path\ninjected 2026-01-01T00:00:00Z info fake line', { err: new HubError('403 from CDN', { hint: 'retry' }) });
    await settle();
    expect(out.lines).toHaveLength(1);
    expect(out.lines[0]).toContain('bad path\\ninjected');
    expect(out.lines[0]).toContain('"code":"E_HUB"');
  });

  it('colours the level only when asked', async () => {
    const out = new Capture();
    createLogger({ stream: out, now, color: true }).error('x');
    await settle();
    expect(out.lines[0]).toContain('\u001b[31merror\u001b[39m');
  });

  it('refuses unknown levels and formats', () => {
    expect(() => createLogger({ level: 'loud' })).toThrow(UsageError);
    expect(() => createLogger({ format: 'xml' as 'json' })).toThrow(UsageError);
  });
});

describe('createLogger json format', () => {
  it('writes one JSON object per line with plan, task and host', async () => {
    const out = new Capture();
    const log = createLogger({ stream: out, now, format: 'json', context: { planId: 2, taskId: 5, host: 'gpu01' } });
    log.info('file done', { repo: 'bigcode/x', bytes: 1024 });
    await settle();
    expect(out.lines.map((l) => JSON.parse(l))).toEqual([
      { time: '2026-11-28T13:00:00.123Z', level: 'info', msg: 'file done', plan_id: 2, task_id: 5, host: 'gpu01', repo: 'bigcode/x', bytes: 1024 },
    ]);
  });
});

describe('the token never reaches a log line', () => {
  const token = 'hf_logTokenQQQQQQQQQQQQQQQQQQQQQQQQQQ';
  const odd = 'registered-but-not-token-shaped';

  it.each(['text', 'json'] as const)('in %s lines, in the message, fields, nested fields and errors', async (format) => {
    registerSecret(odd);
    const out = new Capture();
    const log = createLogger({ stream: out, now, format, context: { host: token } });
    log.info(`sending Bearer ${token}`);
    log.warn('request', { headers: { authorization: `Bearer ${odd}` }, token, list: [token] });
    log.error('failed', { err: new Error(`bad ${token} ${odd}`) });
    log.child({ taskId: token }).info(odd);
    await settle();
    const text = out.chunks.join('');
    expect(out.lines).toHaveLength(4);
    expect(text).not.toContain(token);
    expect(text).not.toContain(odd);
    expect(text).toContain('hf_***');
    if (format === 'json') for (const l of out.lines) expect(() => JSON.parse(l)).not.toThrow();
  });

  it('nor a log file written to disk', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'hfhpc-logger-'));
    try {
      const file = path.join(dir, 'task.log');
      const stream = createWriteStream(file);
      const log = createLogger({ stream, now, format: 'json' });
      log.info('token is', { token });
      log.info(token);
      await settle();
      stream.end();
      await once(stream, 'finish');
      const content = await readFile(file, 'utf8');
      expect(content.split('\n').filter(Boolean)).toHaveLength(2);
      expect(content).not.toContain(token);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('shortHostname', () => {
  it('drops the domain', () => {
    expect(shortHostname('node12.cluster.example.org')).toBe('node12');
    expect(shortHostname('gpu01')).toBe('gpu01');
  });
});

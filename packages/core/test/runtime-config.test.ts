import { describe, expect, it } from '@jest/globals';
import { UsageError } from '../src/errors.js';
import { resolveRuntimeConfig, withPlanDefaults } from '../src/runtime-config.js';

const cwd = '/home/u/project';

describe('resolveRuntimeConfig', () => {
  it('defaults: ./datasets, its state database, huggingface.co, text, info', () => {
    expect(resolveRuntimeConfig({ env: {}, cwd })).toEqual({
      root: '/home/u/project/datasets',
      dbPath: '/home/u/project/datasets/_hfhpc/state.sqlite',
      hubUrl: 'https://huggingface.co',
      logFormat: 'text',
      logLevel: 'info',
      quiet: false,
      rootGiven: false,
      hubUrlGiven: false,
    });
  });

  it('tells whether root and hub URL were given (option or environment), so a stored plan can rank above defaults', () => {
    const manifest = { root: '/scratch/m-root' };
    expect(resolveRuntimeConfig({ env: {}, manifest, cwd })).toMatchObject({ rootGiven: false, hubUrlGiven: false });
    expect(resolveRuntimeConfig({ env: { HFHPC_ROOT: '/r', HF_ENDPOINT: 'http://127.0.0.1:9' }, cwd })).toMatchObject({ rootGiven: true, hubUrlGiven: true });
    expect(resolveRuntimeConfig({ argv: { root: 'x', hubUrl: 'https://hub.example' }, env: {}, cwd })).toMatchObject({ rootGiven: true, hubUrlGiven: true });
    expect(resolveRuntimeConfig({ env: { HFHPC_ROOT: '  ' }, cwd }).rootGiven).toBe(false);
  });

  it('withPlanDefaults: given root/hub URL > the stored plan\'s > defaults', () => {
    const plan = { root: '/scratch/plan-root', hubUrl: 'https://plan.example' };
    expect(withPlanDefaults(resolveRuntimeConfig({ env: {}, cwd }), plan)).toEqual(plan);
    expect(withPlanDefaults(resolveRuntimeConfig({ env: {}, cwd }))).toEqual({ root: '/home/u/project/datasets', hubUrl: 'https://huggingface.co' });
    const given = resolveRuntimeConfig({ argv: { root: '/r' }, env: { HF_ENDPOINT: 'https://env.example' }, cwd });
    expect(withPlanDefaults(given, plan)).toEqual({ root: '/r', hubUrl: 'https://env.example' });
  });

  it('root: --root > HFHPC_ROOT > manifest root > ./datasets', () => {
    const manifest = { root: '/scratch/m-root' };
    const env = { HFHPC_ROOT: 'env-root' };
    expect(resolveRuntimeConfig({ argv: { root: 'arg-root' }, env, manifest, cwd }).root).toBe('/home/u/project/arg-root');
    expect(resolveRuntimeConfig({ env, manifest, cwd }).root).toBe('/home/u/project/env-root');
    expect(resolveRuntimeConfig({ env: {}, manifest, cwd }).root).toBe('/scratch/m-root');
    expect(resolveRuntimeConfig({ env: { HFHPC_ROOT: '' }, manifest: {}, cwd }).root).toBe('/home/u/project/datasets');
  });

  it('db: --db > HFHPC_DB > <root>/_hfhpc/state.sqlite', () => {
    expect(resolveRuntimeConfig({ argv: { db: '/db/a.sqlite', root: '/r' }, env: { HFHPC_DB: '/db/b.sqlite' }, cwd }).dbPath).toBe('/db/a.sqlite');
    expect(resolveRuntimeConfig({ argv: { root: '/r' }, env: { HFHPC_DB: 'b.sqlite' }, cwd }).dbPath).toBe('/home/u/project/b.sqlite');
    expect(resolveRuntimeConfig({ argv: { root: '/r' }, env: {}, cwd }).dbPath).toBe('/r/_hfhpc/state.sqlite');
    expect(resolveRuntimeConfig({ env: {}, manifest: { root: '/m' }, cwd }).dbPath).toBe('/m/_hfhpc/state.sqlite');
  });

  it('hub URL: --hub-url > HF_ENDPOINT > default, trailing / stripped', () => {
    const env = { HF_ENDPOINT: 'https://mirror.example.org/' };
    expect(resolveRuntimeConfig({ argv: { hubUrl: 'http://127.0.0.1:9999/' }, env, cwd }).hubUrl).toBe('http://127.0.0.1:9999');
    expect(resolveRuntimeConfig({ env, cwd }).hubUrl).toBe('https://mirror.example.org');
  });

  it('refuses a plain-http remote hub from any source', () => {
    expect(() => resolveRuntimeConfig({ argv: { hubUrl: 'http://huggingface.co' }, env: {}, cwd })).toThrow(UsageError);
    expect(() => resolveRuntimeConfig({ env: { HF_ENDPOINT: 'http://10.1.2.3' }, cwd })).toThrow(/loopback/);
  });

  it('log settings: option > HFHPC_LOG_* > default, validated', () => {
    const env = { HFHPC_LOG_FORMAT: 'json', HFHPC_LOG_LEVEL: 'debug', HFHPC_QUIET: '1' };
    expect(resolveRuntimeConfig({ env, cwd })).toMatchObject({ logFormat: 'json', logLevel: 'debug', quiet: true });
    expect(resolveRuntimeConfig({ argv: { logFormat: 'text', logLevel: 'warn', quiet: false }, env, cwd })).toMatchObject({
      logFormat: 'text',
      logLevel: 'warn',
      quiet: false,
    });
    expect(() => resolveRuntimeConfig({ argv: { logFormat: 'xml' }, env: {}, cwd })).toThrow(UsageError);
    expect(() => resolveRuntimeConfig({ argv: { logLevel: 'loud' }, env: {}, cwd })).toThrow(UsageError);
    expect(() => resolveRuntimeConfig({ env: { HFHPC_QUIET: 'maybe' }, cwd })).toThrow(UsageError);
  });
});

import { describe, expect, it } from '@jest/globals';
import { DEFAULT_MAX_PARALLEL, DEFAULT_SHARD_SIZE, resolvePlanSettings } from '../src/plan-settings.js';
import { DEFAULT_MAX_FILES_PER_SHARD } from '../src/shard-cost.js';

const manifest = { slurm: { extra: [], partition: 'cpu', time: '12:00:00' } };

describe('resolvePlanSettings', () => {
  it('defaults to 200 GB shards and 32 tasks at once', () => {
    expect(resolvePlanSettings({}, manifest)).toEqual({ shards: undefined, shardSize: DEFAULT_SHARD_SIZE, maxParallel: DEFAULT_MAX_PARALLEL, maxFilesPerShard: DEFAULT_MAX_FILES_PER_SHARD, slurm: manifest.slurm });
    expect(DEFAULT_SHARD_SIZE).toBe(200e9);
  });

  it('takes the command line over the manifest, one of shards / shard size only', () => {
    const m = { ...manifest, shards: 10, maxParallel: 4 };
    expect(resolvePlanSettings({}, m)).toMatchObject({ shards: 10, shardSize: undefined, maxParallel: 4 });
    expect(resolvePlanSettings({ shardSize: '1.5TiB', maxParallel: 9 }, m)).toMatchObject({ shards: undefined, shardSize: 1.5 * 2 ** 40, maxParallel: 9 });
    expect(resolvePlanSettings({ shards: 3 }, { ...manifest, shardSize: 5 })).toMatchObject({ shards: 3, shardSize: undefined });
  });

  it('lays CLI Slurm options over the manifest block, ignoring the ones not given', () => {
    const s = resolvePlanSettings({ slurm: { time: '1:00:00', account: undefined, qos: 'high' } }, manifest);
    expect(s.slurm).toEqual({ extra: [], partition: 'cpu', time: '1:00:00', qos: 'high' });
  });

  it('refuses bad values with usage errors', () => {
    expect(() => resolvePlanSettings({ shards: 2, shardSize: '1GB' }, manifest)).toThrow(/either --shards or --shard-size/);
    expect(() => resolvePlanSettings({ shards: 0 }, manifest)).toThrow(/--shards/);
    expect(() => resolvePlanSettings({ shardSize: 'lots' }, manifest)).toThrow(/--shard-size/);
    expect(() => resolvePlanSettings({ maxParallel: 0 }, manifest)).toThrow(expect.objectContaining({ exitCode: 2 }));
  });
});

import { describe, expect, it } from '@jest/globals';
import { UnsafePathError, cacheLayout, leaseHolderAlive, parseLeaseOwner, parsePartialName, partialTag } from '../src/index.js';

const E = 'a'.repeat(64);

describe('per-claim partial names', () => {
  it('names a claim’s partial with plan, shard, fence and a random part, and reads them back', () => {
    const tag = partialTag({ planId: 3, index: 12, fence: 7 }, '9f3c01ab');
    const p = cacheLayout('/r', 'org/x').incompletePath(E, tag);
    expect(p).toBe(`/r/datasets--org--x/blobs/${E}.p3s12f7-9f3c01ab.incomplete`);
    expect(parsePartialName(`${E}.${tag}.incomplete`)).toEqual({ blob: E, tag, claim: { planId: 3, index: 12, fence: 7 }, aside: false });
  });

  it('still knows the legacy shared name and a takeover’s moved-aside files; another tool’s names are not ours', () => {
    expect(cacheLayout('/r', 'org/x').incompletePath(E)).toBe(`/r/datasets--org--x/blobs/${E}.incomplete`);
    expect(parsePartialName(`${E}.incomplete`)).toEqual({ blob: E, aside: false });
    expect(parsePartialName(`${E}.p1s0f2-ab.aside-0011aabb.incomplete`)).toMatchObject({ blob: E, aside: true, claim: { planId: 1, index: 0, fence: 2 } });
    expect(parsePartialName(`${E}.aside-0011aabb.incomplete`)).toEqual({ blob: E, tag: 'aside-0011aabb', aside: true });
    expect(parsePartialName(`${E}.0a1b2c3d.incomplete`)).toBeUndefined();
    expect(parsePartialName(`${E}`)).toBeUndefined();
    expect(parsePartialName('notahash.incomplete')).toBeUndefined();
  });

  it('refuses a tag that could leave the folder', () => {
    expect(() => cacheLayout('/r', 'org/x').incompletePath(E, '../x')).toThrow(UnsafePathError);
    expect(() => cacheLayout('/r', 'org/x').incompletePath(E, 'a/b')).toThrow(UnsafePathError);
  });
});

describe('lease holders', () => {
  it('parses leaseOwner strings', () => {
    expect(parseLeaseOwner('123_4@node7:5678')).toEqual({ job: '123_4', host: 'node7', pid: 5678 });
    expect(parseLeaseOwner('local@a@b:1')).toEqual({ job: 'local@a', host: 'b', pid: 1 });
    expect(parseLeaseOwner('nonsense')).toBeUndefined();
  });

  it('same host: alive only while the pid exists; another host: until the lease expires; never past expiry', () => {
    const base = { now: 1000, expiresAt: 2000, host: 'me' };
    expect(leaseHolderAlive({ ...base, owner: `local@me:${process.pid}` })).toBe(true);
    expect(leaseHolderAlive({ ...base, owner: 'local@me:77', isPidAlive: () => false })).toBe(false);
    expect(leaseHolderAlive({ ...base, owner: 'local@other:77', isPidAlive: () => false })).toBe(true);
    expect(leaseHolderAlive({ ...base, owner: 'local@other:77', expiresAt: 1000 })).toBe(false);
    expect(leaseHolderAlive({ ...base, owner: `local@me:${process.pid}`, expiresAt: 999 })).toBe(false);
  });
});

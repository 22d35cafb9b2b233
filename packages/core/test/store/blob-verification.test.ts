import { afterEach, describe, expect, it } from '@jest/globals';
import { blobKey, blobVerificationsOfPlan, createPlan, forgetBlobVerified, planFilesOf, planRepos, recordBlobVerified, sameFingerprint } from '../../src/index.js';
import { makePlan, testDb, type TestDb } from './helpers.js';

let t: TestDb;
afterEach(() => t?.cleanup());

const REPO = 'bigcode/tiny';
// Nanosecond times and a 64-bit inode past 2^63: none of them fits a double, the inode not even SQLite's INTEGER.
const fp = { size: 5, mtimeNs: 1_764_000_000_123_456_789n, ctimeNs: 1_764_000_000_987_654_321n, ino: 18_446_744_073_709_551_000n, dev: 2049n };

describe('blob verification records', () => {
  it('belong to the blob, not the plan: a later plan naming the same blob finds them, exact to the nanosecond', () => {
    t = testDb();
    const first = createPlan(t.store, makePlan({ shardBytes: [[5, 6]] }));
    const [a, b] = planFilesOf(t.store, { planId: first });
    recordBlobVerified(t.store, [{ repo: REPO, blob: a!.blob, source: 'verify', ...fp }]);
    t.clock.t += 1000;
    const second = createPlan(t.store, makePlan({ shardBytes: [[5, 6]] }));
    const got = blobVerificationsOfPlan(t.store, second);
    expect([...got.keys()]).toEqual([blobKey(REPO, a!.blob)]);
    const rec = got.get(blobKey(REPO, a!.blob))!;
    expect(rec).toMatchObject({ repo: REPO, blob: a!.blob, source: 'verify', verifiedAt: 1_700_000_000_000, ...fp });
    expect(sameFingerprint(rec, fp)).toBe(true);
    expect(sameFingerprint(rec, { ...fp, ctimeNs: fp.ctimeNs + 1n })).toBe(false);
    expect(sameFingerprint(rec, { ...fp, ino: fp.ino - 1n })).toBe(false);

    // A newer record replaces the old one; forgetting removes it.
    recordBlobVerified(t.store, [{ repo: REPO, blob: a!.blob, source: 'placed', ...fp, size: 9 }, { repo: REPO, blob: b!.blob, source: 'placed', ...fp }]);
    expect(blobVerificationsOfPlan(t.store, second).get(blobKey(REPO, a!.blob))).toMatchObject({ size: 9, source: 'placed', verifiedAt: 1_700_000_001_000 });
    forgetBlobVerified(t.store, [{ repo: REPO, blob: a!.blob }]);
    expect([...blobVerificationsOfPlan(t.store, second).keys()]).toEqual([blobKey(REPO, b!.blob)]);
    // Another repo's copy of the blob is a different file with its own record.
    expect(blobVerificationsOfPlan(t.store, second).has(blobKey('other/repo', b!.blob))).toBe(false);
    expect(planRepos(t.store, second)).toEqual([REPO]);
  });
});

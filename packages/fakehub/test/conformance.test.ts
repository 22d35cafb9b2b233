// The official npm client (@huggingface/hub), unmodified, against fakehub: it must list,
// describe and download exactly what fakehub says it holds.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { datasetInfo, downloadFile, fileDownloadInfo, listFiles, whoAmI, type ListFileEntry } from '@huggingface/hub';
import type { FakeHub } from '../src/index.js';
import { ALICE, BOB, startTestHub } from './helpers.js';

let hub: FakeHub;
beforeAll(async () => {
  hub = await startTestHub({ pageSize: 4, expandPageSize: 3 });
});
afterAll(() => hub.stop());

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function list(repo: string, params: { expand?: boolean; path?: string; revision?: string; accessToken?: string } = {}): Promise<ListFileEntry[]> {
  const out: ListFileEntry[] = [];
  for await (const e of listFiles({ repo: { type: 'dataset', name: repo }, recursive: true, hubUrl: hub.hubUrl, ...params })) out.push(e);
  return out;
}

describe('listFiles', () => {
  it('lists every file and folder recursively across pages, with the sizes and hashes fakehub holds', async () => {
    hub.resetRequests();
    const entries = await list('bigcode/demo');
    const files = entries.filter((e) => e.type === 'file');
    expect(files.map((e) => e.path).sort()).toEqual(hub.files('bigcode/demo'));
    for (const e of files) {
      const info = hub.fileInfoSync('bigcode/demo', e.path);
      expect(e.size).toBe(info.size);
      expect(e.oid).toBe(info.oid);
      expect(e.lfs).toEqual(info.lfs);
    }
    expect(entries.filter((e) => e.type === 'directory').map((e) => e.path).sort()).toEqual(
      ['data', 'data/dir with space', 'data/python', 'weird'].sort(),
    );
    // 11 entries at 4 per page: 3 pages, each followed through Link rel="next".
    expect(hub.requests.filter((r) => r.endpoint === 'tree')).toHaveLength(3);
    expect(new Set(entries.map((e) => e.path)).size).toBe(entries.length);
  });

  it('with expand, adds lastCommit and pages at the smaller expand size', async () => {
    hub.resetRequests();
    const entries = await list('bigcode/demo', { expand: true });
    const sha = hub.commitSha('bigcode/demo');
    expect(entries).toHaveLength(11);
    for (const e of entries) expect(e.lastCommit?.id).toBe(sha);
    expect(entries.find((e) => e.path === 'README.md')?.securityFileStatus).toBeDefined();
    expect(hub.requests.filter((r) => r.endpoint === 'tree')).toHaveLength(4);
  });

  it('lists a sub-folder, and a branch named refs/pr/1 sent unencoded', async () => {
    expect((await list('bigcode/demo', { path: 'data/python' })).map((e) => e.path)).toEqual(['data/python/a.parquet', 'data/python/b.parquet']);
    const pr = await list('bigcode/demo', { revision: 'refs/pr/1' });
    expect(pr.map((e) => e.path)).toContain('pr.txt');
    expect((await list('bigcode/demo')).map((e) => e.path)).not.toContain('pr.txt');
  });

  it('follows many pages of a generated repo to the end', async () => {
    const entries = await list('many/files');
    expect(entries.filter((e) => e.type === 'file')).toHaveLength(25);
    expect(entries.filter((e) => e.type === 'directory').map((e) => e.path)).toEqual(['data', 'data/part-00000', 'data/part-00001', 'data/part-00002']);
  });
});

describe('datasetInfo and whoAmI', () => {
  it('reports id, privacy, gating and the pinned sha', async () => {
    const info = await datasetInfo({ name: 'bigcode/demo', hubUrl: hub.hubUrl, additionalFields: ['sha'] });
    expect(info.name).toBe('bigcode/demo');
    expect(info.private).toBe(false);
    expect(info.gated).toBe(false);
    expect(info.sha).toBe(hub.commitSha('bigcode/demo'));
    const pr = await datasetInfo({ name: 'bigcode/demo', revision: 'refs/pr/1', hubUrl: hub.hubUrl, additionalFields: ['sha'] });
    expect(pr.sha).toBe(hub.commitSha('bigcode/demo', 'refs/pr/1'));
    expect((await datasetInfo({ name: 'bigcode/gated', hubUrl: hub.hubUrl })).gated).toBe('auto');
  });

  it('hides private repos: 401 without a token, 404 for a token without access', async () => {
    await expect(datasetInfo({ name: 'acme/private', hubUrl: hub.hubUrl })).rejects.toMatchObject({ statusCode: 401 });
    await expect(datasetInfo({ name: 'acme/private', hubUrl: hub.hubUrl, accessToken: BOB })).rejects.toMatchObject({ statusCode: 404 });
    expect((await datasetInfo({ name: 'acme/private', hubUrl: hub.hubUrl, accessToken: ALICE })).private).toBe(true);
  });

  it('whoAmI names the token owner and refuses an unknown token', async () => {
    const me = await whoAmI({ hubUrl: hub.hubUrl, accessToken: ALICE });
    expect(me.name).toBe('alice');
    expect(me.type).toBe('user');
    await expect(whoAmI({ hubUrl: hub.hubUrl, accessToken: 'hf_nobody' })).rejects.toMatchObject({ statusCode: 401 });
  });
});

describe('downloadFile', () => {
  async function download(repo: string, path: string, accessToken?: string): Promise<Buffer> {
    const blob = await downloadFile({ repo: { type: 'dataset', name: repo }, path, hubUrl: hub.hubUrl, accessToken });
    if (!blob) throw new Error(`no ${path}`);
    return Buffer.from(await blob.arrayBuffer());
  }

  it('gets git files and LFS files (through the CDN) byte for byte', async () => {
    hub.resetRequests();
    const readme = await download('bigcode/demo', 'README.md');
    expect(readme.toString()).toBe('# demo\n\nHello from fakehub.\n');
    const lfs = await download('bigcode/demo', 'data/python/a.parquet');
    const info = await hub.fileInfo('bigcode/demo', 'data/python/a.parquet');
    expect(lfs.length).toBe(300_000);
    expect(sha256(lfs)).toBe(info.lfs?.oid);
    expect(info.blob).toBe(info.lfs?.oid);
    expect(lfs.equals(hub.readFile('bigcode/demo', 'data/python/a.parquet'))).toBe(true);
    expect(hub.requests.some((r) => r.host === 'cdn' && r.status === 206)).toBe(true);
    const spaced = await download('bigcode/demo', 'data/dir with space/é ü.bin');
    expect(spaced.equals(hub.readFile('bigcode/demo', 'data/dir with space/é ü.bin'))).toBe(true);
  });

  it('fileDownloadInfo sees sizes and git ETags, and null for a missing file', async () => {
    const git = await fileDownloadInfo({ repo: { type: 'dataset', name: 'bigcode/demo' }, path: 'data/small.bin', hubUrl: hub.hubUrl });
    expect(git?.size).toBe(5000);
    expect(git?.etag).toBe(`"${hub.fileInfoSync('bigcode/demo', 'data/small.bin').oid}"`);
    const lfs = await fileDownloadInfo({ repo: { type: 'dataset', name: 'bigcode/demo' }, path: 'data/python/a.parquet', hubUrl: hub.hubUrl });
    expect(lfs?.size).toBe(300_000);
    const missing = await fileDownloadInfo({ repo: { type: 'dataset', name: 'bigcode/demo' }, path: 'nope.bin', hubUrl: hub.hubUrl });
    expect(missing).toBeNull();
  });

  it('gated: 401 without a token, 403 for a token not on the list, bytes for one on it', async () => {
    await expect(download('bigcode/gated', 'x.bin')).rejects.toMatchObject({ statusCode: 401 });
    await expect(download('bigcode/gated', 'x.bin', BOB)).rejects.toMatchObject({ statusCode: 403 });
    await expect(download('bigcode/gated', 'x.bin', 'hf_not_a_token')).rejects.toThrow(/Invalid credentials/);
    hub.resetRequests();
    const bytes = await download('bigcode/gated', 'big.bin', ALICE);
    expect(sha256(bytes)).toBe(hub.fileInfoSync('bigcode/gated', 'big.bin').lfs?.oid);
    // The log catches what the protocol notes warn about: fetch drops the token on the
    // cross-origin redirect, but the npm client, seeing `X-Cache: … cloudfront`, then calls
    // the CDN URL itself with the token.
    const cdn = hub.requests.filter((r) => r.host === 'cdn');
    expect(cdn.map((r) => [r.status, r.authorization])).toEqual([
      [206, false],
      [200, true],
    ]);
  });
});

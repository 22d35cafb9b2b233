// GET /api/datasets: the datasets the caller can see (what `hfhpc doctor` probes).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { FakeHub } from '../src/index.js';
import { ALICE, raw, startTestHub } from './helpers.js';

let hub: FakeHub;
beforeAll(async () => {
  hub = await startTestHub();
});
afterAll(async () => {
  await hub.stop();
});

describe('GET /api/datasets', () => {
  it('lists public datasets anonymously, private ones only to members, and honours limit', async () => {
    const anon = await raw(`${hub.hubUrl}/api/datasets`);
    expect(anon.status).toBe(200);
    const ids = (JSON.parse(anon.body.toString()) as { id: string }[]).map((d) => d.id);
    expect(ids).toContain('bigcode/gated');
    expect(ids).not.toContain('acme/private');
    const member = await raw(`${hub.hubUrl}/api/datasets`, { headers: { authorization: `Bearer ${ALICE}` } });
    expect((JSON.parse(member.body.toString()) as { id: string }[]).map((d) => d.id)).toContain('acme/private');
    const one = await raw(`${hub.hubUrl}/api/datasets?limit=1`);
    expect(JSON.parse(one.body.toString())).toHaveLength(1);
    expect(hub.requests.at(-1)?.endpoint).toBe('list-datasets');
  });
});

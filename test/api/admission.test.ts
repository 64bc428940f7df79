import { ListExecutionsCommand } from '@aws-sdk/client-sfn';
import { keys } from '../../lambdas/adapters/dynamo';
import { startHarness, type Harness } from '../support/harness';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

async function executionsFor(instanceId: string) {
  const out = await h.runtime.deps.sfn.send(new ListExecutionsCommand({ stateMachineArn: h.runtime.deps.stateMachines.provision, maxResults: 1000 }));
  return (out.executions ?? []).filter((e) => e.name?.startsWith(instanceId));
}

describe('admission', () => {
  it('admits exactly one of 64 concurrent provisions for one owner and provisions exactly one machine and volume', async () => {
    // Arrange
    const token = await h.token({ sub: 'race-64' });

    // Act
    const responses = await Promise.all(
      Array.from({ length: 64 }, (_, i) => h.request('POST', '/v1/instances', { token, body: {}, headers: { 'idempotency-key': `race-64-key-${i}` } })),
    );

    // Assert
    const admitted = responses.filter((r) => r.status === 202);
    const refused = responses.filter((r) => r.status === 409);
    expect(admitted).toHaveLength(1);
    expect(refused).toHaveLength(63);
    const winner = admitted[0]!.body;
    for (const r of refused) {
      expect(r.headers.get('content-type')).toBe('application/problem+json');
      expect(r.body).toMatchObject({ status: 409, code: 'provision_in_progress', instanceId: winner.instance.id });
    }
    expect((await h.waitForExecution(winner.operation.executionArn)).status).toBe('SUCCEEDED');
    const inventory = await h.backend.inventory({ owner: 'user:race-64' });
    expect(inventory.machines).toHaveLength(1);
    expect(inventory.volumes).toHaveLength(1);
    expect(await h.item(keys.owner('user:race-64'))).toMatchObject({ activeInstances: 1 });
  });

  it('answers 10 concurrent replays of one Idempotency-Key with one instance and one execution', async () => {
    // Arrange
    const token = await h.token({ sub: 'replay-10' });
    const send = () => h.request('POST', '/v1/instances', { token, body: { name: 'same' }, headers: { 'idempotency-key': 'replay-10-key' } });

    // Act
    const responses = await Promise.all(Array.from({ length: 10 }, send));

    // Assert
    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(202));
    const ids = new Set(responses.map((r) => r.body.instance.id));
    expect(ids.size).toBe(1);
    const [instanceId] = [...ids] as [string];
    for (const r of responses) expect(r.body).toEqual(responses[0]!.body);
    await h.waitForExecution(responses[0]!.body.operation.executionArn);
    expect(await executionsFor(instanceId)).toHaveLength(1);
    expect(await h.item(keys.owner('user:replay-10'))).toMatchObject({ activeInstances: 1 });
  });

  it('replays the original 202 after the provision finished', async () => {
    const token = await h.token({ sub: 'replay-late' });
    const first = await h.request('POST', '/v1/instances', { token, body: {}, headers: { 'idempotency-key': 'replay-late-key' } });
    await h.waitForExecution(first.body.operation.executionArn);

    const again = await h.request('POST', '/v1/instances', { token, body: {}, headers: { 'idempotency-key': 'replay-late-key' } });

    expect(again.status).toBe(202);
    expect(again.body).toEqual(first.body);
    expect(await executionsFor(first.body.instance.id)).toHaveLength(1);
  });

  it('refuses the same Idempotency-Key with another body (422) and changes nothing', async () => {
    const token = await h.token({ sub: 'reuse' });
    const first = await h.request('POST', '/v1/instances', { token, body: { name: 'a' }, headers: { 'idempotency-key': 'reuse-key-1' } });
    await h.waitForExecution(first.body.operation.executionArn);

    const res = await h.request('POST', '/v1/instances', { token, body: { name: 'b' }, headers: { 'idempotency-key': 'reuse-key-1' } });

    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ code: 'idempotency_key_reused' });
    expect(await h.item(keys.owner('user:reuse'))).toMatchObject({ activeInstances: 1 });
  });

  it('admits the next provision once the previous one completed, until the quota is reached (429)', async () => {
    const token = await h.token({ sub: 'quota' });
    const limit = h.runtime.deps.settings.defaultInstanceLimit;
    for (let i = 0; i < limit; i++) {
      const res = await h.request('POST', '/v1/instances', { token, body: {}, headers: { 'idempotency-key': `quota-key-${i}` } });
      expect(res.status).toBe(202);
      await h.waitForExecution(res.body.operation.executionArn);
    }

    const over = await h.request('POST', '/v1/instances', { token, body: {}, headers: { 'idempotency-key': 'quota-key-over' } });

    expect(over.status).toBe(429);
    expect(over.body).toMatchObject({ code: 'quota_exceeded', limit });
    expect(over.headers.get('retry-after')).toBe('60');
    const list = await h.request('GET', '/v1/instances', { token });
    expect(list.body.items).toHaveLength(limit);
    expect(list.body.items.map((i: { status: string }) => i.status)).toEqual(Array(limit).fill('running'));
    const created = list.body.items.map((i: { createdAt: string }) => i.createdAt);
    expect(created).toEqual([...created].sort().reverse());
  });

  it('pages through an owner list with a cursor', async () => {
    const token = await h.token({ sub: 'quota' });
    const first = await h.request('GET', '/v1/instances?limit=2', { token });
    expect(first.body.items).toHaveLength(2);
    const second = await h.request('GET', `/v1/instances?limit=2&cursor=${first.body.nextCursor}`, { token });
    expect(second.body.items).toHaveLength(2);
    expect(second.body.items[0].id).not.toBe(first.body.items[1].id);
    const other = await h.token({ sub: 'cursor-thief' });
    const stolen = await h.request('GET', `/v1/instances?limit=2&cursor=${first.body.nextCursor}`, { token: other });
    expect(stolen.status).toBe(400);
  });
});

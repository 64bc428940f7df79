import { keys } from '../../lambdas/store/keys';
import { settledInventory } from '../support/consistent';
import { ProviderUnavailableError, ProviderCapacityError } from '../../lambdas/shared/errors/provider';
import type { RecordingMetrics } from '../../lambdas/shared/telemetry';
import { startHarness, type Harness } from '../support/harness';

let h: Harness;
let token: string;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});
beforeEach(() => {
  h.provider.reset();
});

let counter = 0;
async function provision(sub: string, body: unknown = {}) {
  token = await h.token({ sub });
  const res = await h.request('POST', '/v1/instances', { token, body, headers: { 'idempotency-key': `key-${sub}-${++counter}` } });
  return res;
}

describe('the provision workflow', () => {
  it('provisions a running instance whose endpoint answers over HTTP', async () => {
    // Arrange / Act
    const res = await provision('wf-happy', { name: 'hello' });
    expect(res.status).toBe(202);
    const closed = await h.waitForExecution(res.body.operation.executionArn);

    // Assert
    expect(closed.status).toBe('SUCCEEDED');
    const got = await h.request('GET', `/v1/instances/${res.body.instance.id}`, { token });
    expect(got.body).toMatchObject({ id: res.body.instance.id, name: 'hello', status: 'running', currentOperation: null, lastStartError: null });
    const answer = await h.answer(got.body.endpoint);
    expect(answer.instanceId).toBe(res.body.instance.id);
    expect(await h.item(keys.reservation('user:wf-happy'))).toMatchObject({ status: 'completed', instanceId: res.body.instance.id, version: 1 });
    const inventory = await settledInventory(h.backend, { owner: 'user:wf-happy', instance: res.body.instance.id });
    expect(inventory.machines).toHaveLength(1);
    expect(inventory.volumes).toHaveLength(1);
  });

  it.each([
    ['volume create', 'createVolume' as const],
    ['machine create', 'createMachine' as const],
    ['wait', 'waitForState' as const],
  ])('cleans up after a provider fault at %s and admits the next provision', async (_label, method) => {
    // Arrange
    const sub = `wf-fault-${method}`;
    h.provider.failNext(method, () => new ProviderCapacityError(`injected ${method} failure`), { times: 100 });

    // Act
    const res = await provision(sub);
    const closed = await h.waitForExecution(res.body.operation.executionArn);
    h.provider.reset();

    // Assert
    expect(closed.status).toBe('FAILED');
    expect(closed.error).toBe('ProviderCapacity');
    const item = await h.instanceItem(res.body.instance.id);
    expect(item).toMatchObject({ status: 'failed', lastStartError: { message: `injected ${method} failure`, code: 'ProviderCapacity' } });
    expect(item?.claim).toBeUndefined();
    expect(await h.item(keys.reservation(`user:${sub}`))).toMatchObject({ status: 'released' });
    expect(await h.item(keys.reservation(`user:${sub}`))).toMatchObject({ activeInstances: 0 });
    expect(await settledInventory(h.backend, { owner: `user:${sub}`, instance: res.body.instance.id })).toEqual({ machines: [], volumes: [] });

    const next = await provision(sub);
    expect(next.status).toBe(202);
    expect((await h.waitForExecution(next.body.operation.executionArn)).status).toBe('SUCCEEDED');
  });

  it.each([['createVolume' as const], ['createMachine' as const]])('adopts what an ambiguous %s made instead of duplicating it', async (method) => {
    // Arrange: the provider makes the resource, then the call fails as if the answer was lost.
    const sub = `wf-ambiguous-${method}`;
    h.provider.failAfter(method, () => new ProviderUnavailableError('connection reset after create'), { times: 1 });

    // Act
    const res = await provision(sub);
    const closed = await h.waitForExecution(res.body.operation.executionArn);

    // Assert
    expect(closed.status).toBe('SUCCEEDED');
    // Fly's list lags the create, so the retry sends createMachine again: Fly refuses the taken name (unique per incarnation) and the machine is adopted by id and tags.
    expect(h.provider.callsTo(method)).toHaveLength(h.kind === 'fly' && method === 'createMachine' ? 2 : 1);
    const inventory = await settledInventory(h.backend, { owner: `user:${sub}`, instance: res.body.instance.id });
    expect(inventory.machines).toHaveLength(1);
    expect(inventory.volumes).toHaveLength(1);
  });

  it("carries the request's correlation id into the execution and records the outcome with its duration", async () => {
    // Arrange
    const metrics = h.runtime.deps.metrics as RecordingMetrics;
    const before = metrics.named('OperationSucceededDuration').length;
    token = await h.token({ sub: 'wf-correlated' });

    // Act
    const res = await h.request('POST', '/v1/instances', { token, body: {}, headers: { 'idempotency-key': `key-correlated-${++counter}`, 'x-correlation-id': 'corr-wf-0001' } });
    const closed = await h.waitForExecution(res.body.operation.executionArn);

    // Assert
    expect(res.headers.get('x-correlation-id')).toBe('corr-wf-0001');
    expect(closed.status).toBe('SUCCEEDED');
    expect(JSON.parse(closed.input)).toMatchObject({ correlationId: 'corr-wf-0001' });
    const durations = metrics.named('OperationSucceededDuration').slice(before);
    expect(durations).toEqual([expect.objectContaining({ unit: 'Milliseconds', dimensions: { operation: 'provision' }, value: expect.any(Number) })]);
    expect(metrics.named('ProvisionAdmitted').at(-1)).toMatchObject({ dimensions: { provider: h.provider.name } });
  });
});

import { keys } from '../../lambdas/store/keys';
import { settledInventory } from '../support/consistent';
import { ProviderCapacityError } from '../../lambdas/shared/errors/provider';
import { MOUNT_PATH } from '../../lambdas/operations/machine/mount-repair';
import { volumeNameOf } from '../../lambdas/providers/compute-provider';
import { startHarness, type Harness } from '../support/harness';
import { operate, operateAndWait, provisionRunning } from '../support/instances';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});
beforeEach(() => h.provider.reset());

describe('lifecycle operations', () => {
  it('stops, starts, restarts and destroys an instance', async () => {
    // Arrange
    const { id, token } = await provisionRunning(h, 'life-basic');
    const get = async () => (await h.request('GET', `/v1/instances/${id}`, { token })).body;

    // Act / Assert
    expect((await operateAndWait(h, token, id, 'stop')).status).toBe('SUCCEEDED');
    expect(await get()).toMatchObject({ status: 'stopped', endpoint: null, currentOperation: null });
    const machineId = (await get()).machineId;
    expect((await h.backend.getMachine(machineId))?.state).toBe('stopped');

    expect((await operateAndWait(h, token, id, 'start')).status).toBe('SUCCEEDED');
    const started = await get();
    expect(started).toMatchObject({ status: 'running', lastStartError: null });
    const answer = await h.answer(started.endpoint);
    expect(answer.volumeFile.trim().split('\n')).toHaveLength(2);

    expect((await operateAndWait(h, token, id, 'restart')).status).toBe('SUCCEEDED');
    expect(await get()).toMatchObject({ status: 'running' });

    expect((await operateAndWait(h, token, id, 'destroy')).status).toBe('SUCCEEDED');
    expect((await h.request('GET', `/v1/instances/${id}`, { token })).status).toBe(404);
    expect(await h.instanceItem(id)).toMatchObject({ status: 'destroyed', countsTowardQuota: false });
    expect((await h.instanceItem(id))?.expiresAt).toEqual(expect.any(Number));
    expect(await h.item(keys.reservation('user:life-basic'))).toMatchObject({ activeInstances: 0 });
    expect(await settledInventory(h.backend, { owner: 'user:life-basic', instance: id })).toEqual({ machines: [], volumes: [] });
    // A tombstone is not found on every route, as on GET.
    for (const operation of ['start', 'stop', 'restart', 'destroy'] as const) {
      const again = await operate(h, token, id, operation);
      expect([operation, again.status, again.body.code]).toEqual([operation, 404, 'instance_not_found']);
    }
  });

  it('sets lastStartError when a start fails and clears it on the next successful start', async () => {
    // Arrange
    const { id, token } = await provisionRunning(h, 'life-start-error');
    await operateAndWait(h, token, id, 'stop');
    h.provider.failNext('startMachine', () => new ProviderCapacityError('no capacity for this start'), { times: 1 });

    // Act
    const failed = await operateAndWait(h, token, id, 'start');

    // Assert
    expect(failed.status).toBe('FAILED');
    const afterFailure = (await h.request('GET', `/v1/instances/${id}`, { token })).body;
    expect(afterFailure).toMatchObject({ status: 'stopped', currentOperation: null, lastStartError: { message: 'no capacity for this start', code: 'ProviderCapacity' } });
    expect(afterFailure.lastStartError.at).toEqual(expect.any(String));

    expect((await operateAndWait(h, token, id, 'start')).status).toBe('SUCCEEDED');
    expect((await h.request('GET', `/v1/instances/${id}`, { token })).body).toMatchObject({ status: 'running', lastStartError: null });
  });

  it('repairs a machine created on the wrong volume when starting', async () => {
    // Arrange: a tagged machine of this instance that mounts some other volume.
    const { id, token } = await provisionRunning(h, 'life-mount');
    await operateAndWait(h, token, id, 'stop');
    const item = (await h.instanceItem(id))!;
    const stray = await h.backend.createVolume({ name: volumeNameOf(id), region: h.region, sizeGb: 1, tags: { owner: item.owner, instance: id, reservation: 'v1' } });
    await h.backend.destroyMachine(item.machineId!);
    const wrong = await h.backend.createMachine({
      name: id,
      region: h.region,
      size: item.size,
      image: item.image,
      volumeId: stray.id,
      mountPath: MOUNT_PATH,
      tags: { owner: item.owner, instance: id, reservation: 'v1' },
      start: false,
    });
    await h.runtime.deps.db.send(
      new (await import('@aws-sdk/lib-dynamodb')).UpdateCommand({
        TableName: h.runtime.deps.tableName,
        Key: keys.instance(id),
        UpdateExpression: 'SET machineId = :m',
        ExpressionAttributeValues: { ':m': wrong.id },
      }),
    );

    // Act
    expect((await operateAndWait(h, token, id, 'start')).status).toBe('SUCCEEDED');

    // Assert
    const repaired = (await h.instanceItem(id))!;
    expect(repaired.machineId).not.toBe(wrong.id);
    const machine = await h.backend.getMachine(repaired.machineId!);
    expect(machine).toMatchObject({ state: 'started', mount: { volumeId: item.volumeId } });
    expect((await h.backend.getMachine(wrong.id))?.state ?? 'destroyed').toBe('destroyed');
    expect(repaired.status).toBe('running');
  });

  it('keeps a destroyed instance destroyed when a stale step is replayed, and frees quota once', async () => {
    // Arrange
    const { id, token } = await provisionRunning(h, 'life-stale');
    await operateAndWait(h, token, id, 'stop');
    const startRes = await operate(h, token, id, 'start');
    await h.waitForExecution(startRes.body.operation.executionArn);
    const startClaim = startRes.body.operation.executionName as string;
    const destroyRes = await operate(h, token, id, 'destroy');
    await h.waitForExecution(destroyRes.body.operation.executionArn);
    const destroyClaim = destroyRes.body.operation.executionName as string;
    const steps = h.runtime.taskHandlers;

    // Act: replay the start's last steps and the destroy's final step with their original inputs.
    const stale = [
      steps.FinishOperation!({ instanceId: id, owner: 'user:life-stale', claim: startClaim, provider: h.provider.name, operation: 'start', endpoint: 'http://127.0.0.1:1' }),
      steps.RecordOperationFailure!({ instanceId: id, owner: 'user:life-stale', claim: startClaim, provider: h.provider.name, operation: 'start', failure: { Error: 'X', Cause: '{}' } }),
      steps.TombstoneInstance!({ instanceId: id, owner: 'user:life-stale', claim: destroyClaim }),
    ];
    const results = await Promise.allSettled(stale);

    // Assert
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'fulfilled']);
    expect(results.slice(0, 2).map((r) => (r as PromiseRejectedResult).reason.name)).toEqual(['ClaimLost', 'ClaimLost']);
    expect(await h.instanceItem(id)).toMatchObject({ status: 'destroyed' });
    expect(await h.item(keys.reservation('user:life-stale'))).toMatchObject({ activeInstances: 0 });
  });
});

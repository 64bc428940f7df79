/**
 * Destroys finish: on the real ASL, handlers, DynamoDB Local and provider, a destroy that failed or
 * was lost with a crashed stack is run again by the reconcile sweep until it ends `destroyed` with
 * its resources gone; one that keeps failing is parked for an operator after its capped tries (its
 * quota slot freed then, DestroyParked counted, listed as parked); and the machine of an instance
 * being destroyed is never booted again when the host comes back.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../../lambdas/store/keys';
import { runReconcile } from '../../lambdas/sweeps/reconcile/sweep';
import { ProviderUnavailableError } from '../../lambdas/shared/errors/provider';
import type { RecordingMetrics } from '../../lambdas/shared/telemetry';
import { settledInventory } from '../support/consistent';
import { startHarness, type Harness } from '../support/harness';
import { operate, provisionRunning } from '../support/instances';
import { gate } from '../support/sfn-helpers';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});
beforeEach(() => h.provider.reset());

const period = () => h.runtime.deps.settings.sweepPeriodSeconds;
/** Every destroyMachine call fails, retries included. */
const destroysFail = () => h.provider.failNext('destroyMachine', () => new ProviderUnavailableError('injected destroyMachine fault'), { times: 1000 });

/** DELETE the instance and wait for its execution to end. */
async function destroyAndWait(token: string, id: string): Promise<void> {
  const res = await operate(h, token, id, 'destroy');
  expect(res.status).toBe(202);
  await h.waitForExecution(res.body.operation.executionArn).catch(() => undefined);
}

describe('a destroy that failed or was lost', () => {
  it('is run again by the next sweep and ends destroyed, its machine and volume gone and its slot freed', async () => {
    // Arrange: a destroy whose every provider destroy failed.
    const { id, token } = await provisionRunning(h, 'destroy-retry');
    destroysFail();
    await destroyAndWait(token, id);
    const failed = (await h.instanceItem(id))!;
    h.provider.reset();

    // Act: the sweep's next run.
    const report = await runReconcile(h.later(period()));
    await h.runtime.stepFunctions.idle();

    // Assert
    expect(failed).toMatchObject({ status: 'destroying', destroyTries: 1, lastDestroyError: { message: expect.stringContaining('injected') } });
    expect(failed.claim).toBeUndefined();
    expect(report.actions).toContainEqual(expect.objectContaining({ target: `instance:${id}`, action: 'destroy-retried' }));
    expect(await h.instanceItem(id)).toMatchObject({ status: 'destroyed', countsTowardQuota: false });
    expect(await settledInventory(h.backend, { instance: id })).toEqual({ machines: [], volumes: [] });
    expect(await h.item(keys.reservation('user:destroy-retry'))).toMatchObject({ activeInstances: 0 });
  });

  it('is parked for an operator after its capped tries: slot freed, DestroyParked counted, never retried by itself, still finishable by a DELETE', async () => {
    // Arrange: a destroy that failed its tries but one.
    const { id, token } = await provisionRunning(h, 'destroy-parked');
    destroysFail();
    await destroyAndWait(token, id);
    const max = h.runtime.deps.settings.reconcileMaxTries;
    await h.runtime.deps.db.send(
      new UpdateCommand({ TableName: h.runtime.deps.tableName, Key: keys.instance(id), UpdateExpression: 'SET destroyTries = :t', ExpressionAttributeValues: { ':t': max - 1 } }),
    );
    const metrics = h.runtime.deps.metrics as RecordingMetrics;
    const parkedBefore = metrics.named('DestroyParked').length;

    // Act: the last try fails too; a day later the sweep leaves it alone; then the owner deletes it again.
    await runReconcile(h.later(3600));
    await h.runtime.stepFunctions.idle();
    const parked = (await h.instanceItem(id)) as unknown as Record<string, unknown>;
    const dayLater = await runReconcile(h.later(86_400));
    const attention = await h.request('GET', '/v1/admin/attention?band=parked', { token: await h.token({ sub: 'ops', admin: true }) });
    h.provider.reset();
    await destroyAndWait(token, id);

    // Assert
    expect(parked).toMatchObject({ status: 'destroying', destroyTries: max, countsTowardQuota: false, destroyParkedAt: expect.any(String), attentionAt: expect.stringMatching(/^parked#/) });
    expect(parked.claim).toBeUndefined();
    expect(metrics.named('DestroyParked').length).toBe(parkedBefore + 1);
    expect(dayLater.actions.filter((a) => a.target === `instance:${id}`)).toEqual([]);
    expect(attention.body.items).toContainEqual(expect.objectContaining({ subject: 'destroy-parked', alarm: 'DestroyParkedAlarm', instanceId: id, tries: max }));
    expect(await h.instanceItem(id)).toMatchObject({ status: 'destroyed' });
    expect(await settledInventory(h.backend, { instance: id })).toEqual({ machines: [], volumes: [] });
    // The slot was freed once, at the park; the tombstone did not free it again.
    expect(await h.item(keys.reservation('user:destroy-parked'))).toMatchObject({ activeInstances: 0 });
  });

  it('lost with a crashed stack: its machine is not booted again at start-up, and the sweep finishes it', async () => {
    // Arrange: a destroy held in its first provider destroy when the stack dies.
    const { id, token } = await provisionRunning(h, 'destroy-lost');
    const machineId = (await h.instanceItem(id))!.machineId!;
    const inDestroy = gate();
    h.provider.inner.destroyMachine = async () => {
      await inDestroy.pass();
    };
    await operate(h, token, id, 'destroy');
    await inDestroy.entered;

    // Act: restart (the host comes back), the start-up settle, the sweep's next run.
    await h.crashAndRestart();
    const afterBoot = await h.backend.getMachine(machineId);
    const startUp = await runReconcile(h.runtime.deps, { afterRestart: true });
    const next = await runReconcile(h.later(period()));
    await h.runtime.stepFunctions.idle();

    // Assert
    // Locally the restart is the machines' host too: it boots what ran, but not this one. On Fly it is
    // only slipway's: the machine ran on untouched, until the destroy removed it.
    expect(afterBoot?.state).toBe(h.kind === 'local' ? 'stopped' : 'started');
    expect(startUp.actions).toContainEqual(expect.objectContaining({ target: `instance:${id}`, action: 'released-claim' }));
    expect(next.actions).toContainEqual(expect.objectContaining({ target: `instance:${id}`, action: 'destroy-retried' }));
    expect(await h.instanceItem(id)).toMatchObject({ status: 'destroyed' });
    expect(await settledInventory(h.backend, { instance: id })).toEqual({ machines: [], volumes: [] });
    expect(await h.item(keys.reservation('user:destroy-lost'))).toMatchObject({ activeInstances: 0 });
  });
});

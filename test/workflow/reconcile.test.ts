/**
 * The reconcile sweep and the execution-closed listener on the real ASL, handlers, DynamoDB Local
 * and provider: each thing a crash or a lost execution can leave behind is settled, and a converged
 * world is left alone.
 */
import { StopExecutionCommand } from '@aws-sdk/client-sfn';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../../lambdas/store/keys';
import { instanceIdFor } from '../../lambdas/operations/provision/request';
import { claimInstance } from '../../lambdas/domain/claims';
import { runReconcile } from '../../lambdas/sweeps/reconcile/sweep';
import { volumeNameOf } from '../../lambdas/providers/compute-provider';
import type { RecordingMetrics } from '../../lambdas/shared/telemetry';
import { ProviderUnavailableError } from '../../lambdas/shared/errors/provider';
import { startHarness, type Harness } from '../support/harness';
import { operate, operateAndWait, provisionRunning } from '../support/instances';
import { gate } from '../support/sfn-helpers';
import { afterListLag, settledInventory } from '../support/consistent';

let h: Harness;
let counter = 0;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});
beforeEach(() => h.provider.reset());

/** Run the sweep with a clock `seconds` ahead (everything due, every claim old). */
const sweepLater = (seconds = 3600) => runReconcile(h.later(seconds));

describe('the reconcile sweep', () => {
  it('releases a lifecycle claim whose execution was lost, showing the real state and the error', async () => {
    // Arrange: a stop claimed, but its execution never started (the API died right after the claim).
    const { id } = await provisionRunning(h, 'rec-lost-stop');
    await claimInstance(h.runtime.deps, id, ['user:rec-lost-stop'], 'stop');

    // Act
    const report = await sweepLater();

    // Assert
    expect(report.actions).toContainEqual(expect.objectContaining({ target: `instance:${id}`, action: 'released-claim' }));
    const item = await h.instanceItem(id);
    expect(item?.claim).toBeUndefined();
    expect(item).toMatchObject({ status: 'running', lastStopError: { code: 'ExecutionLost' } });
  });

  it('fails a provision whose execution was lost after provider work started, cleaning up what it made', async () => {
    // Arrange: a provision held in CreateMachine, then its execution is lost with the runtime.
    const sub = 'rec-lost-provision';
    const inMachine = gate();
    const crashed = h.provider.inner;
    const original = crashed.createMachine.bind(crashed);
    crashed.createMachine = async (spec) => {
      await inMachine.pass();
      return original(spec);
    };
    const token = await h.token({ sub });
    const res = await h.request('POST', '/v1/instances', { token, body: {}, headers: { 'idempotency-key': `rec-${++counter}-lost` } });
    await inMachine.entered;
    const id = res.body.instance.id as string;
    await h.crashAndRestart();
    crashed.createMachine = original;
    inMachine.open();

    // Act
    const report = await sweepLater();

    // Assert
    expect(report.actions.map((a) => a.action)).toContain('failed-provision');
    expect(await h.instanceItem(id)).toMatchObject({ status: 'failed', countsTowardQuota: false, lastStartError: { code: 'ExecutionLost' } });
    expect(await h.item(keys.reservation(`user:${sub}`))).toMatchObject({ status: 'released' });
    expect(await h.item(keys.reservation(`user:${sub}`))).toMatchObject({ activeInstances: 0 });
    expect(await settledInventory(h.backend, { owner: `user:${sub}`, instance: id })).toEqual({ machines: [], volumes: [] });
  });

  it('starts an admitted provision whose execution never started, and it completes', async () => {
    // Arrange: admission committed, StartExecution never happened.
    const sub = 'rec-never-started';
    const token = await h.token({ sub });
    const realSfn = h.runtime.deps.sfn;
    const failing = { send: async () => Promise.reject(new Error('connection reset')) } as unknown as typeof realSfn;
    h.runtime.deps.sfn = failing;
    const res = await h.request('POST', '/v1/instances', { token, body: {}, headers: { 'idempotency-key': `rec-${++counter}-never` } });
    h.runtime.deps.sfn = realSfn;
    expect(res.status).toBe(503);
    const reservation = (await h.item(keys.reservation(`user:${sub}`)))!;

    // Act
    const report = await sweepLater();
    const arn = h.runtime.stepFunctions.stateMachineArn('slipway-provision').replace(':stateMachine:', ':execution:') + `:${reservation.executionName}`;
    const closed = await h.waitForExecution(arn);

    // Assert
    expect(report.actions).toContainEqual(expect.objectContaining({ action: 'started-execution', detail: reservation.executionName }));
    expect(closed.status).toBe('SUCCEEDED');
    expect(await h.item(keys.reservation(`user:${sub}`))).toMatchObject({ status: 'completed' });
  });

  it('finishes a cleanup the provision could not verify, then frees the quota and the reservation', async () => {
    // Arrange: the provision fails and its compensation cannot destroy the machine.
    const sub = 'rec-needs-reconciliation';
    h.provider.failNext('waitForState', () => new ProviderUnavailableError('gone'), { times: 100 });
    h.provider.failNext('destroyMachine', () => new ProviderUnavailableError('still there'), { times: 100 });
    const token = await h.token({ sub });
    const res = await h.request('POST', '/v1/instances', { token, body: {}, headers: { 'idempotency-key': `rec-${++counter}-nr` } });
    const closed = await h.waitForExecution(res.body.operation.executionArn);
    h.provider.reset();
    expect(closed.error).toBe('ProvisionNeedsReconciliation');
    expect(await h.item(keys.reservation(`user:${sub}`))).toMatchObject({ status: 'needs_reconciliation' });

    // Act
    const report = await runReconcile(h.runtime.deps);

    // Assert
    expect(report.actions).toContainEqual(expect.objectContaining({ action: 'cleaned-up' }));
    expect(await h.item(keys.reservation(`user:${sub}`))).toMatchObject({ status: 'released' });
    expect(await h.item(keys.reservation(`user:${sub}`))).toMatchObject({ activeInstances: 0 });
    expect(await h.instanceItem(res.body.instance.id)).toMatchObject({ status: 'failed', countsTowardQuota: false });
    expect(await settledInventory(h.backend, { owner: `user:${sub}`, instance: res.body.instance.id })).toEqual({ machines: [], volumes: [] });
  });

  it('stops retrying a cleanup after its capped tries and raises CleanupExhausted', async () => {
    // Arrange
    const sub = 'rec-exhausted';
    h.provider.failNext('waitForState', () => new ProviderUnavailableError('gone'), { times: 1000 });
    h.provider.failNext('destroyMachine', () => new ProviderUnavailableError('still there'), { times: 1000 });
    const token = await h.token({ sub });
    const res = await h.request('POST', '/v1/instances', { token, body: {}, headers: { 'idempotency-key': `rec-${++counter}-ex` } });
    await h.waitForExecution(res.body.operation.executionArn);
    const metrics = h.runtime.deps.metrics as RecordingMetrics;
    const before = metrics.named('CleanupExhausted').length;

    // Act: every try fails; each later sweep sees it due again, until the cap.
    const actions: string[] = [];
    for (let i = 0; i < h.runtime.deps.settings.reconcileMaxTries + 2; i++) {
      const report = await sweepLater(3600 * (i + 1) * 2);
      actions.push(...report.actions.filter((a) => a.target === `instance:${res.body.instance.id}`).map((a) => a.action));
    }
    h.provider.reset();

    // Assert
    expect(actions.filter((a) => a === 'cleanup-exhausted')).toHaveLength(1);
    expect(actions.at(-1)).toBe('cleanup-exhausted');
    expect(metrics.named('CleanupExhausted').length - before).toBe(1);
    const item = await h.instanceItem(res.body.instance.id);
    expect(item).toMatchObject({ reconcileTries: h.runtime.deps.settings.reconcileMaxTries, cleanupExhaustedAt: expect.any(String) });
    // Parked for an operator: on the index (the console lists it), never due for a sweep.
    expect((item as unknown as Record<string, unknown>).attentionAt).toBe(`parked#${item!.cleanupExhaustedAt}`);
  });

  it('shows a machine stopped on request behind slipway\'s back as stopped with the reason (no recovery: the exit was requested)', async () => {
    // Arrange: someone stops the machine at the provider (a console, another client).
    const { id, token } = await provisionRunning(h, 'rec-unexpected');
    const machineId = (await h.instanceItem(id))!.machineId!;
    await h.backend.stopMachine(machineId);
    await h.backend.waitForState(machineId, 'stopped', 10_000);

    // Act
    const report = await sweepLater();

    // Assert
    expect(report.actions).toContainEqual(expect.objectContaining({ target: `instance:${id}`, action: 'marked-stopped' }));
    const view = (await h.request('GET', `/v1/instances/${id}`, { token })).body;
    expect(view).toMatchObject({ status: 'stopped', endpoint: null, lastStopError: { code: 'UnexpectedExit', message: expect.stringContaining('requested') } });
    expect((await operateAndWait(h, token, id, 'start')).status).toBe('SUCCEEDED');
  });

  it('starts a recovery for a running instance whose machine exited without being asked', async () => {
    // Arrange
    const { id } = await provisionRunning(h, 'rec-crashed');
    await h.killMachine((await h.instanceItem(id))!.machineId!);

    // Act
    const report = await sweepLater();

    // Assert
    const action = report.actions.find((a) => a.target === `instance:${id}`);
    expect(action).toMatchObject({ action: 'recovery-started', detail: expect.stringContaining(`${id}-recover-v`) });
    await h.runtime.stepFunctions.idle();
    expect(await h.instanceItem(id)).toMatchObject({ status: 'running', lastRecoveredAt: expect.any(String) });
  });

  it('settles a recovery whose execution was lost before its cut-over: what it made is destroyed, the old volume kept, stopped with lastRecoveryError', async () => {
    // Arrange: a recovery held in CreateMachine (its fork made), then the stack dies.
    const { id } = await provisionRunning(h, 'rec-lost-recovery');
    const before = (await h.instanceItem(id))!;
    const inCreate = gate();
    const crashed = h.provider.inner;
    const original = crashed.createMachine.bind(crashed);
    crashed.createMachine = async (spec) => {
      await inCreate.pass();
      return original(spec);
    };
    await h.killMachine(before.machineId!);
    await sweepLater();
    await inCreate.entered;
    const forked = (await h.instanceItem(id))!.recovery!.volumeId!;
    await h.crashAndRestart();
    crashed.createMachine = original;
    inCreate.open();

    // Act: the claim was taken by a sweep an hour ahead; this one is an hour past its timeout.
    const report = await sweepLater(7200);

    // Assert
    expect(report.actions).toContainEqual(expect.objectContaining({ target: `instance:${id}`, action: 'recovery-failed' }));
    const after = (await h.instanceItem(id))!;
    expect(after).toMatchObject({ status: 'stopped', volumeId: before.volumeId, lastRecoveryError: { code: 'ExecutionLost' } });
    expect(after.claim).toBeUndefined();
    expect(after.recovery).toBeUndefined();
    expect((await h.backend.getVolume(forked))?.state ?? 'destroyed').toBe('destroyed');
    expect((await h.backend.getVolume(before.volumeId!))?.state).not.toBe('destroyed');
  });

  it('destroys a tagged volume no instance accounts for once it is past the grace period, and leaves a young one', async () => {
    // Arrange: a stray volume tagged for a running instance that records another volume.
    const { id } = await provisionRunning(h, 'rec-orphan');
    const item = (await h.instanceItem(id))!;
    const stray = await h.backend.createVolume({ name: volumeNameOf(id), region: h.region, sizeGb: 1, tags: { owner: item.owner, instance: id, reservation: 'v9' } });
    await afterListLag(h.backend); // the sweep finds it by listing, once the list shows it

    // Act
    const young = await runReconcile({ ...h.runtime.deps, settings: { ...h.runtime.deps.settings, orphanScanSeconds: 0 } });
    const old = await sweepLater();

    // Assert
    expect(young.orphans).toContainEqual(expect.objectContaining({ id: stray.id, action: 'too-young' }));
    expect(old.orphans).toContainEqual(expect.objectContaining({ id: stray.id, action: 'destroyed' }));
    expect((await h.backend.getVolume(stray.id))?.state ?? 'destroyed').toBe('destroyed');
    expect((await h.backend.getVolume(item.volumeId!))?.state).not.toBe('destroyed');
  });

  it('runs once when two sweeps start together, and a second pass over a converged world writes nothing but its lease', async () => {
    // Arrange: a converged world (a running instance), first sweep already looked at everything.
    await provisionRunning(h, 'rec-converged');
    await sweepLater();
    await sweepLater();
    const writes: string[] = [];
    h.runtime.deps.db.middlewareStack.add(
      (next, context) => async (args) => {
        if (/Put|Update|Delete|TransactWrite|BatchWrite/.test(context.commandName ?? '')) writes.push(`${context.commandName} ${JSON.stringify((args.input as { Key?: unknown }).Key ?? 'transaction')}`);
        return next(args);
      },
      { step: 'initialize', name: 'countWrites' },
    );
    h.provider.reset();

    // Act
    const [a, b] = await Promise.all([sweepLater(), sweepLater()]);
    h.runtime.deps.db.middlewareStack.remove('countWrites');

    // Assert
    expect([a.ran, b.ran].sort()).toEqual([false, true]);
    expect(h.provider.writes()).toEqual([]);
    expect(writes.every((w) => w.includes('SWEEP#reconcile'))).toBe(true);
  });
});

describe('the execution-closed listener', () => {
  it('settles an aborted execution at once, without waiting for the sweep', async () => {
    // Arrange: a restart held in StartMachine.
    const { id, token } = await provisionRunning(h, 'rec-aborted');
    const inStart = gate();
    const original = h.provider.inner.startMachine.bind(h.provider.inner);
    h.provider.inner.startMachine = async (machineId) => {
      await inStart.pass();
      return original(machineId);
    };
    const res = await operate(h, token, id, 'restart');
    await inStart.entered;

    // Act: an operator aborts it in the console; its Catch never runs.
    await h.runtime.deps.sfn.send(new StopExecutionCommand({ executionArn: res.body.operation.executionArn, error: 'OperatorAbort' }));
    const closed = await h.waitForExecution(res.body.operation.executionArn);
    inStart.open();
    h.provider.inner.startMachine = original;

    // Assert
    expect(closed.status).toBe('ABORTED');
    const item = await h.instanceItem(id);
    expect(item?.claim).toBeUndefined();
    expect(item).toMatchObject({ lastStartError: { code: expect.any(String), message: expect.stringContaining('ABORTED') } });
    expect(['running', 'stopped']).toContain(item?.status);
  });
});

describe('operator escape hatches', () => {
  it('settles one instance on request, audited, and reports a lost execution as LOST', async () => {
    // Arrange
    const { id, token } = await provisionRunning(h, 'rec-operator');
    const stop = await claimInstance(h.runtime.deps, id, ['user:rec-operator'], 'stop');
    const admin = await h.token({ sub: 'ops', admin: true });
    const history = await h.request('GET', `/v1/instances/${id}/operations`, { token });
    // An old claim: its request time is long past, its execution will never exist.
    await h.runtime.deps.db.send(
      new UpdateCommand({ TableName: h.runtime.deps.tableName, Key: keys.instance(id), UpdateExpression: 'SET operations[1].requestedAt = :old', ExpressionAttributeValues: { ':old': '2020-01-01T00:00:00.000Z' } }),
    );

    // Act
    const settled = await h.request('POST', `/v1/admin/instances/${id}/settle`, { token: admin, body: { reason: 'the stop never started' } });
    const run = await h.request('POST', '/v1/admin/sweeps/reconcile', { token: admin });
    const refused = await h.request('POST', `/v1/admin/instances/${id}/settle`, { token: admin, body: {} });

    // Assert
    expect(stop.executionName).toMatch(/-stop-v2$/);
    expect(history.body.items.map((op: { status: string }) => op.status)).toContain('PENDING');
    expect(settled.status).toBe(200);
    expect(settled.body.actions).toContainEqual(expect.objectContaining({ action: 'released-claim' }));
    expect(settled.body.audit).toMatchObject({ action: 'instance.settle', actor: 'user:ops', reason: 'the stop never started' });
    expect(run.status).toBe(200);
    expect(run.body).toMatchObject({ sweep: 'reconcile', ran: true });
    expect(refused.status).toBe(400);
    const registry = await h.request('GET', '/v1/admin/owners/user:rec-operator', { token: admin });
    expect(registry.body.audit[0]).toMatchObject({ action: 'instance.settle' });
  });

  it('settles the instance of a reservation an operator released before its provision ever started', async () => {
    // Arrange: admitted, StartExecution failed (the API answered 503), then an operator releases it.
    const sub = 'rec-released-unstarted';
    const token = await h.token({ sub });
    const realSfn = h.runtime.deps.sfn;
    h.runtime.deps.sfn = { send: async () => Promise.reject(new Error('connection reset')) } as unknown as typeof realSfn;
    const res = await h.request('POST', '/v1/instances', { token, body: {}, headers: { 'idempotency-key': `rec-${++counter}-released` } });
    h.runtime.deps.sfn = realSfn;
    expect(res.status).toBe(503);
    const id = instanceIdFor(`user:${sub}`, `rec-${counter}-released`);
    expect((await h.instanceItem(id)) as unknown as Record<string, unknown>).not.toHaveProperty('attentionAt');
    const admin = await h.token({ sub: 'ops', admin: true });
    expect((await h.request('POST', `/v1/admin/owners/user:${sub}/reservation/release`, { token: admin, body: { reason: 'stuck after an outage' } })).status).toBe(200);

    // Act: the instance was made due with the release; the sweep settles it.
    const due = (await h.instanceItem(id)) as unknown as Record<string, unknown>;
    const report = await sweepLater();

    // Assert
    expect(due.attentionAt).toEqual(expect.any(String));
    expect(report.actions).toContainEqual(expect.objectContaining({ target: `instance:${id}`, action: 'failed-provision' }));
    expect(await h.instanceItem(id)).toMatchObject({ status: 'failed', countsTowardQuota: false, lastStartError: { code: 'ExecutionLost' } });
    expect(await h.item(keys.reservation(`user:${sub}`))).toMatchObject({ status: 'released', activeInstances: 0 });
  });

  it('reports an execution that no longer exists as LOST', async () => {
    const { id, token } = await provisionRunning(h, 'rec-lost-view');
    await claimInstance(h.runtime.deps, id, ['user:rec-lost-view'], 'stop');
    await h.runtime.deps.db.send(
      new UpdateCommand({ TableName: h.runtime.deps.tableName, Key: keys.instance(id), UpdateExpression: 'SET operations[1].requestedAt = :old', ExpressionAttributeValues: { ':old': '2020-01-01T00:00:00.000Z' } }),
    );

    const history = await h.request('GET', `/v1/instances/${id}/operations`, { token });

    expect(history.body.items[0]).toMatchObject({ kind: 'stop', status: 'LOST' });
  });
});

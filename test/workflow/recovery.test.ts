/**
 * Unexpected-stop recovery on the real ASL, handlers, DynamoDB Local and provider (local processes,
 * and the Fly adapter against the fake Fly API): a machine that dies is replaced on a volume forked
 * from its own, the old volume retained (snapshots) or deleted (none); a failure at any step leaves
 * nothing the recovery made, the old volume intact, `stopped` with lastRecoveryError and a cooldown.
 */
import { keys } from '../../lambdas/store/keys';
import { runReconcile } from '../../lambdas/sweeps/reconcile/sweep';
import { runVolumeCleanup } from '../../lambdas/sweeps/volume-cleanup/sweep';
import type { ProviderMethod } from '../support/fault-injecting-provider';
import { ProviderCapacityError } from '../../lambdas/shared/errors/provider';
import type { RecordingMetrics } from '../../lambdas/shared/telemetry';
import { startHarness, type Harness } from '../support/harness';
import { operate, operateAndWait, provisionRunning } from '../support/instances';
import { executionArn, killAndRecover } from '../support/recovery';
import { gate } from '../support/sfn-helpers';
import { settledInventory } from '../support/consistent';

let h: Harness;
let admin: string;

beforeAll(async () => {
  h = await startHarness({ settings: { orphanGraceSeconds: 0, orphanScanSeconds: 0 } });
  admin = await h.token({ sub: 'ops', admin: true });
});
afterAll(async () => {
  await h.close();
});
beforeEach(() => h.provider.reset());

/** The lifecycle events of one instance, oldest first. */
const eventsOf = (id: string) => h.runtime.events.recent({ instanceId: id, limit: 1000 }).reverse().map((event) => event.type);

/** Force a recovery through the admin API and wait until it closed. */
async function forceRecovery(id: string, reason = 'test: the disk went bad') {
  const res = await h.request('POST', `/v1/admin/instances/${id}/recover`, { token: admin, body: { reason } });
  if (res.status !== 202) throw new Error(`recover refused: ${res.status} ${JSON.stringify(res.body)}`);
  return { res, closed: await h.waitForExecution(res.body.operation.executionArn) };
}

describe('recovery after an unexpected stop', () => {
  it('shows recovering (busy to the owner), then runs on a new machine and a volume forked from the old one, which it retains when it has snapshots', async () => {
    // Arrange: a running instance with a snapshot of its volume; the recovery is held in CreateMachine.
    const { id, token } = await provisionRunning(h, 'recover-retained');
    const before = (await h.instanceItem(id))!;
    await h.backend.createSnapshot(before.volumeId!);
    const volumeFileBefore = (await h.answer(before.endpoint!)).volumeFile;
    const inCreate = gate();
    const original = h.provider.inner.createMachine.bind(h.provider.inner);
    h.provider.inner.createMachine = async (spec) => {
      await inCreate.pass();
      return original(spec);
    };
    await h.killMachine(before.machineId!);

    // Act: one sweep sees the unrequested exit.
    const report = await runReconcile(h.later(3600));
    await inCreate.entered;
    const during = (await h.request('GET', `/v1/instances/${id}`, { token })).body;
    const refused = await Promise.all((['start', 'stop', 'restart', 'destroy'] as const).map((op) => operate(h, token, id, op)));
    const pendingVolumeId = (await h.instanceItem(id))!.recovery?.volumeId;
    inCreate.open();
    h.provider.inner.createMachine = original;
    const started = report.actions.find((a) => a.target === `instance:${id}`)!;
    const closed = await h.waitForExecution(executionArn(h, 'recover', started.detail!.split(':')[0]!));

    // Assert
    expect(started.action).toBe('recovery-started');
    expect(during).toMatchObject({ status: 'recovering', currentOperation: { kind: 'recover' } });
    expect(refused.map((r) => [r.status, r.body.code])).toEqual(Array.from({ length: 4 }, () => [409, 'instance_busy']));
    expect(closed.status).toBe('SUCCEEDED');
    const after = (await h.instanceItem(id))!;
    const view = (await h.request('GET', `/v1/instances/${id}`, { token })).body;
    expect(view).toMatchObject({ status: 'running', lastRecoveredAt: expect.any(String), lastRecoveryError: null, currentOperation: null });
    expect(Date.parse(view.recoveryCooldownUntil)).toBeGreaterThan(Date.now() + 60_000);
    expect(after.volumeId).toBe(pendingVolumeId);
    expect(after.volumeId).not.toBe(before.volumeId);
    expect(after.machineId).not.toBe(before.machineId);
    expect(after.recovery).toBeUndefined();
    // The new volume holds the old one's data; the new machine appended its own boot.
    const answer = await h.answer(after.endpoint!);
    expect(answer.machineId).toBe(after.machineId);
    expect(answer.volumeFile.startsWith(volumeFileBefore)).toBe(true);
    expect(answer.volumeFile.length).toBeGreaterThan(volumeFileBefore.length);
    // The old machine is gone; the old volume is kept, recorded until its date.
    expect((await h.backend.getMachine(before.machineId!))?.state ?? 'destroyed').toBe('destroyed');
    expect((await h.backend.getVolume(before.volumeId!))?.state).not.toBe('destroyed');
    const retained = await h.item(keys.volume(before.volumeId!));
    expect(retained).toMatchObject({ state: 'retained', reason: 'recovery', instanceId: id, owner: 'user:recover-retained', provider: h.provider.name, snapshotCount: 1, tries: 0 });
    const days = (Date.parse(String(retained!.retainUntil)) - Date.parse(after.lastRecoveredAt!)) / 86_400_000;
    expect(days).toBeCloseTo(7, 5);
    expect(eventsOf(id)).toEqual(['instance.recovery_started', 'volume.retained', 'instance.recovery_succeeded']);
    const operations = (await h.request('GET', `/v1/instances/${id}/operations`, { token })).body.items;
    expect(operations[0]).toMatchObject({ kind: 'recover', status: 'SUCCEEDED' });
    const adminView = (await h.request('GET', `/v1/admin/instances/${id}`, { token: admin })).body;
    expect(adminView.retainedVolumes).toEqual([expect.objectContaining({ volumeId: before.volumeId, state: 'retained' })]);
    expect(adminView.events.map((e: { type: string }) => e.type)).toEqual(['instance.recovery_succeeded', 'volume.retained', 'instance.recovery_started']);
    const listed = (await h.request('GET', '/v1/admin/volumes?state=retained', { token: admin })).body.items.map((v: { volumeId: string }) => v.volumeId);
    expect(listed).toContain(before.volumeId);
  });

  it('deletes the old volume at once when it has no snapshots', async () => {
    // Arrange
    const { id } = await provisionRunning(h, 'recover-no-snapshots');

    // Act
    const recovered = await killAndRecover(h, id);

    // Assert
    expect(recovered.status).toBe('SUCCEEDED');
    expect(recovered.after).toMatchObject({ status: 'running' });
    expect((await h.backend.getVolume(recovered.before.volumeId!))?.state ?? 'destroyed').toBe('destroyed');
    expect(await h.item(keys.volume(recovered.before.volumeId!))).toBeUndefined();
    expect(eventsOf(id)).toEqual(['instance.recovery_started', 'volume.deleted', 'instance.recovery_succeeded']);
    const inventory = await settledInventory(h.backend, { instance: id });
    expect(inventory.machines.map((m) => m.id)).toEqual([recovered.after.machineId]);
    expect(inventory.volumes.map((v) => v.id)).toEqual([recovered.after.volumeId]);
  });

  it('shows the next unexpected stop within the cooldown as stopped instead of recovering again, and recovers once the cooldown is over', async () => {
    // Arrange: one recovery done; the owner's new machine dies again at once.
    const { id } = await provisionRunning(h, 'recover-cooldown');
    const first = await killAndRecover(h, id);
    const cooldownUntil = Date.parse(first.after.recoveryCooldownUntil!);
    await h.killMachine(first.after.machineId!);

    // Act: the next sweep (inside the cooldown).
    const within = await runReconcile(h.later(h.runtime.deps.settings.sweepPeriodSeconds + 1));

    // Assert
    expect(cooldownUntil - Date.now()).toBeGreaterThan(3 * h.runtime.deps.settings.sweepPeriodSeconds * 1000);
    expect(within.actions.find((a) => a.target === `instance:${id}`)).toMatchObject({ action: 'marked-stopped', detail: expect.stringContaining('no recovery until') });
    expect(await h.instanceItem(id)).toMatchObject({ status: 'stopped', lastStopError: { code: 'UnexpectedExit' } });
    expect(eventsOf(id).filter((type) => type === 'instance.recovery_started')).toHaveLength(1);

    // And after the cooldown a new death is recovered again.
    expect((await operateAndWait(h, (await h.token({ sub: 'recover-cooldown' })), id, 'start')).status).toBe('SUCCEEDED');
    const again = await killAndRecover(h, id, { sweepAheadSeconds: h.runtime.deps.settings.recoveryCooldownSeconds + 60 });
    expect(again.status).toBe('SUCCEEDED');
  });

  it('recovers a running instance on an operator request, audited in the claim\'s transaction, and refuses a stopped one, writing nothing', async () => {
    // Arrange: a running instance (its disk went bad, says the operator) and a stopped one.
    const { id } = await provisionRunning(h, 'recover-operator');
    const before = (await h.instanceItem(id))!;
    const stopped = await provisionRunning(h, 'recover-operator-stopped');
    await operateAndWait(h, stopped.token, stopped.id, 'stop');
    const stoppedBefore = (await h.instanceItem(stopped.id))!;

    // Act
    const { res, closed } = await forceRecovery(id, 'customer reports a corrupt disk');
    const refused = await h.request('POST', `/v1/admin/instances/${stopped.id}/recover`, { token: admin, body: { reason: 'customer reports a corrupt disk' } });
    const unreasoned = await h.request('POST', `/v1/admin/instances/${id}/recover`, { token: admin, body: {} });
    const notAdmin = await h.request('POST', `/v1/admin/instances/${id}/recover`, { token: (await h.token({ sub: 'recover-operator' })), body: { reason: 'me, myself' } });

    // Assert
    expect(res.body).toMatchObject({ instance: { status: 'recovering' }, operation: { kind: 'recover' }, audit: { action: 'instance.recover', actor: 'user:ops', reason: 'customer reports a corrupt disk', before: { status: 'running', executionName: res.body.operation.executionName } } });
    expect(closed.status).toBe('SUCCEEDED');
    expect(await h.instanceItem(id)).toMatchObject({ status: 'running' });
    expect((await h.instanceItem(id))!.volumeId).not.toBe(before.volumeId);
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ code: 'invalid_state' });
    expect(await h.instanceItem(stopped.id)).toEqual(stoppedBefore);
    expect((await h.request('GET', '/v1/admin/owners/user:recover-operator-stopped', { token: admin })).body.audit).toEqual([]);
    expect(unreasoned.status).toBe(400);
    expect(notAdmin.status).toBe(403);
    const registry = await h.request('GET', '/v1/admin/owners/user:recover-operator', { token: admin });
    expect(registry.body.audit).toEqual([res.body.audit]);
  });

  it('refuses a destroy while recovering, and a destroy after the recovery leaves the retained volume until its date', async () => {
    // Arrange: a recovery that retains the old volume.
    const { id, token } = await provisionRunning(h, 'recover-destroy');
    await h.backend.createSnapshot((await h.instanceItem(id))!.volumeId!);
    const recovered = await killAndRecover(h, id);
    const oldVolumeId = recovered.before.volumeId!;

    // Act
    expect((await operateAndWait(h, token, id, 'destroy')).status).toBe('SUCCEEDED');
    const earlySweep = await runVolumeCleanup(h.later(24 * 3600));
    const adminView = (await h.request('GET', `/v1/admin/instances/${id}`, { token: admin })).body;
    const dueSweep = await runVolumeCleanup(h.later(8 * 24 * 3600));

    // Assert: the destroy removed the instance's own machine and volume, not the retained one...
    expect(await h.instanceItem(id)).toMatchObject({ status: 'destroyed' });
    expect(earlySweep.actions.filter((a) => a.target === `volume:${oldVolumeId}`)).toEqual([]);
    expect(adminView.retainedVolumes).toEqual([expect.objectContaining({ volumeId: oldVolumeId, state: 'retained' })]);
    // ...which the volume-cleanup sweep deletes at its date, its ownership proven against the tombstone.
    expect(dueSweep.actions).toContainEqual(expect.objectContaining({ target: `volume:${oldVolumeId}`, action: 'deleted' }));
    expect((await h.backend.getVolume(oldVolumeId))?.state ?? 'destroyed').toBe('destroyed');
    expect(await settledInventory(h.backend, { instance: id })).toEqual({ machines: [], volumes: [] });
  });
});

describe('a failed recovery', () => {
  /** A provider call of each step, made to fail for good (not a transient error: no retry hides it). */
  const STEPS: Array<[step: string, method: ProviderMethod]> = [
    ['StopMachine', 'getMachine'],
    ['ForkVolume', 'forkVolume'],
    ['CreateMachine', 'createMachine'],
    ['WaitMachineStarted', 'waitForState'],
    ['CutOverRecovery', 'listSnapshots'],
  ];

  it.each(STEPS)('at %s leaves nothing it made, the old volume intact, stopped with lastRecoveryError and a cooldown', async (step, method) => {
    // Arrange: a running instance whose machine died (its volume has a snapshot: the failure must not retain it either).
    const sub = `recover-fails-${step.toLowerCase()}`;
    const { id, token } = await provisionRunning(h, sub);
    const before = (await h.instanceItem(id))!;
    await h.backend.createSnapshot(before.volumeId!);
    await h.killMachine(before.machineId!);
    h.provider.reset();
    h.provider.failNext(method, () => new ProviderCapacityError(`injected failure of ${method}`), { times: 1 });
    const metrics = h.runtime.deps.metrics as RecordingMetrics;
    const failedBefore = metrics.named('RecoveryFailed').length;

    // Act
    const { closed } = await forceRecovery(id);

    // Assert
    expect(closed.status).toBe('FAILED');
    const after = (await h.instanceItem(id))!;
    expect(after).toMatchObject({
      status: 'stopped',
      machineId: before.machineId,
      volumeId: before.volumeId,
      lastRecoveryError: { code: 'ProviderCapacity', message: expect.stringContaining(`injected failure of ${method}`), at: expect.any(String) },
    });
    expect(after.claim).toBeUndefined();
    expect(after.recovery).toBeUndefined();
    expect(Date.parse(after.recoveryCooldownUntil!) - Date.now()).toBeGreaterThan(3 * h.runtime.deps.settings.sweepPeriodSeconds * 1000);
    const inventory = await settledInventory(h.backend, { instance: id });
    expect(inventory.volumes.map((v) => v.id)).toEqual([before.volumeId]);
    expect(inventory.machines.map((m) => m.id)).toEqual([before.machineId]);
    expect(await h.item(keys.volume(before.volumeId!))).toBeUndefined();
    expect(eventsOf(id).slice(-1)).toEqual(['instance.recovery_failed']);
    expect(metrics.named('RecoveryFailed').length - failedBefore).toBe(1);
    expect((await h.request('GET', `/v1/instances/${id}`, { token })).body).toMatchObject({ status: 'stopped', lastRecoveryError: { message: expect.any(String) } });
    // The old volume still serves its instance: a start brings it back with its data.
    expect((await operateAndWait(h, token, id, 'start')).status).toBe('SUCCEEDED');
    const answer = await h.answer((await h.instanceItem(id))!.endpoint!);
    expect(answer.volumeFile.trim().split('\n').length).toBeGreaterThanOrEqual(2);
  });

  it('does not undo a recovery whose retirement of the old machine fails; the orphan collection removes the old machine', async () => {
    // Arrange
    const { id } = await provisionRunning(h, 'recover-retire-fails');
    const before = (await h.instanceItem(id))!;
    h.provider.failNext('destroyMachine', () => new ProviderCapacityError('cannot destroy now'), { times: 1 });

    // Act
    const recovered = await killAndRecover(h, id);
    const sweep = await runReconcile(h.later(2 * 3600));

    // Assert
    expect(recovered.status).toBe('SUCCEEDED');
    expect(recovered.after).toMatchObject({ status: 'running' });
    expect(sweep.orphans).toContainEqual(expect.objectContaining({ kind: 'machine', id: before.machineId, action: 'destroyed' }));
    expect(sweep.orphans).toContainEqual(expect.objectContaining({ kind: 'volume', id: before.volumeId, action: 'destroyed' }));
  });
});

describe('a sweep during a recovery', () => {
  it('never deletes the pending replacement volume, and the recovery finishes on it', async () => {
    // Arrange: the recovery holds in CreateMachine, its fork made and recorded.
    const { id } = await provisionRunning(h, 'recover-sweep-race');
    const inCreate = gate();
    const original = h.provider.inner.createMachine.bind(h.provider.inner);
    h.provider.inner.createMachine = async (spec) => {
      await inCreate.pass();
      return original(spec);
    };
    const before = (await h.instanceItem(id))!;
    await h.killMachine(before.machineId!);
    const report = await runReconcile(h.later(3600));
    await inCreate.entered;
    const pending = (await h.instanceItem(id))!.recovery!;

    // Act: both sweeps run, with everything due and every orphan past its grace.
    const reconcile = await runReconcile(h.later(7200));
    const cleanup = await runVolumeCleanup(h.later(30 * 24 * 3600));
    const stillThere = await h.backend.getVolume(pending.volumeId!);
    inCreate.open();
    h.provider.inner.createMachine = original;
    const closed = await h.waitForExecution(executionArn(h, 'recover', report.actions.find((a) => a.target === `instance:${id}`)!.detail!.split(':')[0]!));

    // Assert
    expect(pending).toMatchObject({ volumeName: expect.any(String), sourceVolumeId: before.volumeId, volumeId: expect.any(String) });
    expect(reconcile.orphans.filter((o) => o.id === pending.volumeId)).toEqual([]);
    expect(reconcile.actions.find((a) => a.target === `instance:${id}`)).toMatchObject({ action: 'waiting' });
    expect(cleanup.actions.filter((a) => a.target === `volume:${pending.volumeId}`)).toEqual([]);
    expect(stillThere?.state).not.toBe('destroyed');
    expect(closed.status).toBe('SUCCEEDED');
    expect((await h.instanceItem(id))!.volumeId).toBe(pending.volumeId);
  });
});

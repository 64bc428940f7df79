/**
 * Switching an instance between providers, on the real ASL, handlers, DynamoDB Local and two
 * providers (two local roots, or two apps of the fake Fly organisation): the pre-claim decides
 * everything before any provider call, the workflow owns the critical section, and every failure
 * either completes the switch or rolls it back fully.
 */
import { keys } from '../../lambdas/store/keys';
import { runReconcile } from '../../lambdas/sweeps/reconcile/sweep';
import { requestSwitch } from '../../lambdas/operations/switch/request';
import { DataTransferUnsupportedError, ProviderCapacityError } from '../../lambdas/shared/errors/provider';
import type { ProviderMethod } from '../support/fault-injecting-provider';
import { startHarness, type Harness } from '../support/harness';
import { operate, operateAndWait, provisionRunning } from '../support/instances';
import { gate } from '../support/sfn-helpers';
import { failNextTableCall, mentions } from '../support/table-faults';
import { settledInventory } from '../support/consistent';

let h: Harness;
let west: NonNullable<Harness['west']>;
/** The configured retention (not the 7-day default), so a switch that ignored the setting is seen. */
const VOLUME_RETENTION_SECONDS = 36 * 3600;

beforeAll(async () => {
  h = await startHarness({ secondProvider: true, settings: { volumeRetentionSeconds: VOLUME_RETENTION_SECONDS } });
  west = h.west!;
});
afterAll(async () => {
  await h.close();
});
beforeEach(() => {
  west = h.west!;
  h.provider.reset();
  west.provider.reset();
});

/** Ask for a switch of `id` to `body.provider`. */
function switchTo(token: string, id: string, body: Record<string, unknown>) {
  return h.request('POST', `/v1/instances/${id}/switch-provider`, { token, body });
}

/** The boot log the instance's machine keeps on its volume (its data, as far as the tests go). */
async function dataOf(token: string, id: string): Promise<string> {
  const view = (await h.request('GET', `/v1/instances/${id}`, { token })).body;
  return (await h.answer(view.endpoint)).volumeFile;
}

describe('switch-provider', () => {
  it('moves a running instance to the other provider with its data and retains the old volume', async () => {
    // Arrange
    const { id, token } = await provisionRunning(h, 'sw-basic');
    const before = await h.instanceItem(id);
    const oldData = await dataOf(token, id);

    // Act
    const startedAt = Date.now();
    const res = await switchTo(token, id, { provider: west.name, expectedProvider: h.provider.name });
    const closed = await h.waitForExecution(res.body.operation.executionArn);
    const closedAt = Date.now();

    // Assert
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ instance: { status: 'switching' }, operation: { kind: 'switch', executionName: `${id}-switch-v${before!.version + 1}` } });
    expect(closed.status).toBe('SUCCEEDED');
    const after = (await h.request('GET', `/v1/instances/${id}`, { token })).body;
    expect(after).toMatchObject({ status: 'running', provider: west.name, region: west.region, lastSwitchError: null, currentOperation: null });
    expect(after.machineId).not.toBe(before!.machineId);
    expect(after.volumeId).not.toBe(before!.volumeId);
    expect((await dataOf(token, id)).startsWith(oldData)).toBe(true);
    expect((await h.backend.getMachine(before!.machineId!))?.state ?? 'destroyed').toBe('destroyed');
    expect(await h.backend.getVolume(before!.volumeId!)).toMatchObject({ state: expect.not.stringMatching('destroyed') });
    const retained = await h.item(keys.volume(before!.volumeId!));
    expect(retained).toMatchObject({ state: 'retained', reason: 'switch', provider: h.provider.name, instanceId: id, owner: 'user:sw-basic' });
    // Retained for VOLUME_RETENTION_SECONDS from the commit, like a recovery's old volume.
    const retainedFor = Date.parse(retained!.retainUntil as string) - VOLUME_RETENTION_SECONDS * 1000;
    expect([retainedFor >= startedAt, retainedFor <= closedAt]).toEqual([true, true]);
    const onWest = await settledInventory(west.backend, { instance: id });
    expect([onWest.machines.map((m) => m.id), onWest.volumes.map((v) => v.id)]).toEqual([[after.machineId], [after.volumeId]]);
    const ops = (await h.request('GET', `/v1/instances/${id}/operations`, { token })).body;
    expect(ops.items[0]).toMatchObject({ kind: 'switch', status: 'SUCCEEDED' });
  });

  it('keeps a stopped instance stopped on its new provider, and it starts there', async () => {
    // Arrange
    const { id, token } = await provisionRunning(h, 'sw-stopped');
    await operateAndWait(h, token, id, 'stop');

    // Act
    const res = await switchTo(token, id, { provider: west.name });
    const closed = await h.waitForExecution(res.body.operation.executionArn);

    // Assert
    expect(closed.status).toBe('SUCCEEDED');
    const after = await h.instanceItem(id);
    expect(after).toMatchObject({ status: 'stopped', provider: west.name });
    expect(after?.endpoint).toBeUndefined();
    expect((await west.backend.getMachine(after!.machineId!))?.state).not.toMatch(/start/);
    expect((await operateAndWait(h, token, id, 'start')).status).toBe('SUCCEEDED');
    expect(await h.instanceItem(id)).toMatchObject({ status: 'running', provider: west.name });
  });

  it('lets exactly one of 32 concurrent switch requests through, and no loser calls a provider', async () => {
    // Arrange: mixed requests, every one aimed at the same instance.
    const { id, token } = await provisionRunning(h, 'sw-race');
    h.provider.reset();
    const bodies = Array.from({ length: 32 }, (_, i) =>
      i % 4 === 0 ? { provider: west.name, expectedProvider: h.provider.name } : i % 4 === 1 ? { provider: west.name } : i % 4 === 2 ? { provider: h.provider.name } : { provider: west.name, expectedProvider: west.name },
    );

    // Act
    const answers = await Promise.all(bodies.map((body) => switchTo(token, id, body)));
    const winners = answers.filter((a) => a.status === 202);
    await h.waitForExecution(winners[0]!.body.operation.executionArn);

    // Assert: one winner; every loser a 409 with its reason; exactly one switch's provider calls.
    expect(winners).toHaveLength(1);
    const codes = new Set(answers.filter((a) => a.status !== 202).map((a) => `${a.status} ${a.body.code}`));
    expect([...codes].every((code) => ['409 already_switching', '409 same_provider', '409 provider_mismatch'].includes(code))).toBe(true);
    const writes = (p: typeof h.provider) => p.writes().map((call) => call.method).sort();
    expect(writes(h.provider)).toEqual(['destroyMachine', 'stopMachine']);
    expect(writes(west.provider)).toEqual(['createMachine', 'importVolume']);
    expect(await h.instanceItem(id)).toMatchObject({ status: 'running', provider: west.name });
  });

  it('refuses a second switch while one runs, without touching the winner', async () => {
    // Arrange: the winner parks in CreateMachine on the target.
    const { id, token } = await provisionRunning(h, 'sw-loser');
    const parked = gate();
    const original = west.provider.inner.createMachine.bind(west.provider.inner);
    west.provider.inner.createMachine = async (spec) => {
      await parked.pass();
      return original(spec);
    };
    const winner = await switchTo(token, id, { provider: west.name });
    await parked.entered;
    const during = await h.instanceItem(id);
    h.provider.reset();
    west.provider.reset();

    // Act
    const loser = await switchTo(token, id, { provider: west.name, expectedProvider: h.provider.name });
    const after = await h.instanceItem(id);
    const loserWrites = [...h.provider.writes(), ...west.provider.writes()];
    west.provider.inner.createMachine = original;
    parked.open();
    const closed = await h.waitForExecution(winner.body.operation.executionArn);

    // Assert
    expect(loser.status).toBe(409);
    expect(['already_switching', 'provider_mismatch']).toContain(loser.body.code);
    expect(after).toEqual(during);
    expect(loserWrites).toEqual([]);
    expect(closed.status).toBe('SUCCEEDED');
  });

  it('completes when the request is gone right after the 202 and the API server dies', async () => {
    // Arrange
    const { id, token } = await provisionRunning(h, 'sw-orphaned-request');

    // Act: the caller disconnects and the API process goes away; a new one serves afterwards.
    const res = await switchTo(token, id, { provider: west.name });
    await h.crashApi();
    const closed = await h.waitForExecution(res.body.operation.executionArn);

    // Assert
    expect(closed.status).toBe('SUCCEEDED');
    expect(await h.instanceItem(id)).toMatchObject({ status: 'running', provider: west.name });
    expect((await switchTo(token, id, { provider: h.provider.name })).status).toBe(202);
  });

  describe('rolls back fully when a step fails', () => {
    const providerFaults: Array<[string, 'old' | 'target', ProviderMethod]> = [
      ['stopping the old machine', 'old', 'stopMachine'],
      ['creating the volume', 'target', 'importVolume'],
      ['creating the machine', 'target', 'createMachine'],
      ['waiting for the new machine', 'target', 'probeHealth'],
      ['retiring the old machine', 'old', 'destroyMachine'],
    ];
    it.each(providerFaults)('%s', async (_, where, method) => {
      // Arrange
      const sub = `sw-fault-${method}`;
      const { id, token } = await provisionRunning(h, sub);
      const before = await h.instanceItem(id);
      const oldData = await dataOf(token, id);
      (where === 'old' ? h.provider : west.provider).failNext(method, () => new ProviderCapacityError(`injected ${method} fault`), { times: 20 });

      // Act
      const res = await switchTo(token, id, { provider: west.name });
      const closed = await h.waitForExecution(res.body.operation.executionArn);
      h.provider.reset();
      west.provider.reset();

      // Assert
      expect(closed.status).toBe('FAILED');
      await expectRolledBack(id, token, sub, before!, oldData);
    });

    it.each([
      ['the provider write', (name: string, input: Record<string, unknown>) => name === 'UpdateItemCommand' && mentions(input, 'switchingFrom') && mentions(input, 'switchTarget') === false],
      ['the commit', (name: string, input: Record<string, unknown>) => name === 'TransactWriteItemsCommand' && mentions(input, 'VOLUME#')],
    ])('%s', async (what, match) => {
      // Arrange
      const sub = `sw-table-${what.replace(/\W+/g, '-')}`;
      const { id, token } = await provisionRunning(h, sub);
      const before = await h.instanceItem(id);
      const oldData = await dataOf(token, id);
      failNextTableCall(h.runtime.deps.db, match);

      // Act
      const res = await switchTo(token, id, { provider: west.name });
      const closed = await h.waitForExecution(res.body.operation.executionArn);

      // Assert
      expect(closed.status).toBe('FAILED');
      await expectRolledBack(id, token, sub, before!, oldData);
    });
  });

  it('switches onto a fresh volume only when asked, where the providers cannot carry the data', async () => {
    // Arrange: the target is in no data group of the instance's provider.
    const { id, token } = await provisionRunning(h, 'sw-fresh');
    const settings = h.runtime.deps.settings;
    const deps = { ...h.runtime.deps, settings: { ...settings, providers: settings.providers.map((p) => (p.name === west.name ? { ...p, dataGroup: null } : p)) } };

    // Act
    const refused = requestSwitch(deps, id, ['user:sw-fresh'], { provider: west.name });
    await expect(refused).rejects.toBeInstanceOf(DataTransferUnsupportedError);
    const accepted = await requestSwitch(deps, id, ['user:sw-fresh'], { provider: west.name, data: 'fresh' });
    const closed = await h.waitForExecution(accepted.operation.executionArn);

    // Assert
    expect(closed.status).toBe('SUCCEEDED');
    expect(west.provider.callsTo('importVolume')).toHaveLength(0);
    expect(west.provider.callsTo('createVolume')).toHaveLength(1);
    expect((await dataOf(token, id)).trim().split('\n')).toHaveLength(1);
  });

  it('answers bad requests with their problem and calls no provider', async () => {
    // Arrange
    const { id, token } = await provisionRunning(h, 'sw-bad');
    const other = await h.token({ sub: 'sw-bad-other' });
    h.provider.reset();

    // Act
    const answers = await Promise.all([
      switchTo(token, id, { provider: 'nowhere' }),
      switchTo(token, id, { provider: west.name, region: 'mars' }),
      switchTo(token, id, { provider: west.name, colour: 'blue' }),
      switchTo(token, id, { provider: h.provider.name }),
      switchTo(token, id, { provider: west.name, expectedProvider: west.name }),
      switchTo(other, id, { provider: west.name }),
    ]);

    // Assert
    expect(answers.map((a) => `${a.status} ${a.body.code}`)).toEqual([
      '400 unknown_provider',
      '400 unsupported_placement',
      '400 validation_failed',
      '409 same_provider',
      '409 provider_mismatch',
      '404 instance_not_found',
    ]);
    expect(h.provider.calls).toHaveLength(0);
    expect(west.provider.calls).toHaveLength(0);
    expect(await h.instanceItem(id)).toMatchObject({ status: 'running', provider: h.provider.name });
  });

  it('races destroy and restart: one wins, the others get 409, nothing is resurrected', async () => {
    // Arrange
    const { id, token } = await provisionRunning(h, 'sw-vs-lifecycle');

    // Act
    const answers = await Promise.all([switchTo(token, id, { provider: west.name }), operate(h, token, id, 'destroy'), operate(h, token, id, 'restart')]);
    const winner = answers.find((a) => a.status === 202)!;
    await h.waitForExecution(winner.body.operation.executionArn);

    // Assert
    expect(answers.map((a) => a.status).sort()).toEqual([202, 409, 409]);
    const item = await h.instanceItem(id);
    const expected = { switch: { status: 'running', provider: west.name }, destroy: { status: 'destroyed' }, restart: { status: 'running', provider: h.provider.name } }[winner.body.operation.kind as 'switch' | 'destroy' | 'restart'];
    expect(item).toMatchObject(expected);
    if (item?.status === 'destroyed') {
      expect(await settledInventory(west.backend, { instance: id })).toEqual({ machines: [], volumes: [] });
      expect((await switchTo(token, id, { provider: west.name })).status).toBe(404);
    }
  });

  it('is rolled back by the reconcile sweep when its execution is lost with the stack', async () => {
    // Arrange: the switch parks in CreateMachine on the target, then the whole stack dies.
    const sub = 'sw-lost';
    const { id, token } = await provisionRunning(h, sub);
    const before = await h.instanceItem(id);
    const oldData = await dataOf(token, id);
    const parked = gate();
    const inner = west.provider.inner;
    const original = inner.createMachine.bind(inner);
    inner.createMachine = async (spec) => {
      await parked.pass();
      return original(spec);
    };
    await switchTo(token, id, { provider: west.name });
    await parked.entered;
    await h.crashAndRestart();
    // The dead stack's step stays parked for good: a killed process does not go on.
    inner.createMachine = original;
    west = h.west!;

    // Act: the start-up settle, then the restart it starts for the old machine.
    const report = await runReconcile(h.runtime.deps, { afterRestart: true });
    await h.runtime.stepFunctions.idle();

    // Assert
    expect(report.actions).toContainEqual(expect.objectContaining({ target: `instance:${id}`, action: 'rolled-back-switch' }));
    await expectRolledBack(id, token, sub, before!, oldData, 'ExecutionLost');
  });
});

/** The instance is back where it was, running, with its data, and the target holds nothing of it. */
async function expectRolledBack(id: string, token: string, sub: string, before: NonNullable<Awaited<ReturnType<Harness['instanceItem']>>>, oldData: string, code?: string): Promise<void> {
  const item = await h.instanceItem(id);
  expect(item).toMatchObject({ status: 'running', provider: before.provider, region: before.region, volumeId: before.volumeId, lastSwitchError: { code: code ?? expect.any(String) } });
  expect(item?.claim).toBeUndefined();
  expect(item?.switchingFrom).toBeUndefined();
  expect((await dataOf(token, id)).startsWith(oldData)).toBe(true);
  expect(await settledInventory(west.backend, { instance: id })).toEqual({ machines: [], volumes: [] });
  expect(await h.item(keys.volume(before.volumeId!))).toBeUndefined();
  expect(await h.item(keys.reservation(`user:${sub}`))).toMatchObject({ activeInstances: 1 });
}

/**
 * Cancelling a running operation (`DELETE /v1/instances/{id}/operations/{name}`) through the HTTP
 * app, on the real ASL, handlers, DynamoDB Local and the provider (local, or the fake Fly): the
 * execution is stopped and settled as a lost one is, the instance ends in a stated state with its
 * last…Error code `cancelled`, a repeat answers the same, and what cannot be cancelled is refused.
 */
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { keys } from '../../lambdas/store/keys';
import { runReconcile } from '../../lambdas/sweeps/reconcile/sweep';
import { describeOperation } from '../../lambdas/views/operations-history';
import { startHarness, type Harness } from '../support/harness';
import { operate, provisionRunning } from '../support/instances';
import { gate, holdCalls, type Gate } from '../support/sfn-helpers';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ secondProvider: true });
});
afterAll(async () => {
  await h.close();
});

/**
 * Hold the provider's next `method` call at a gate: `before` it reaches the provider (a create that
 * hangs on its way), or `after` the provider made it (its answer hangs). `made` resolves with the id
 * of what the call made (null when it made nothing) once the gate opens.
 */
function holdNextCreate(method: 'createVolume' | 'createMachine', when: 'before' | 'after'): { parked: Gate; made: Promise<string | null> } {
  const parked = gate();
  const inner = h.provider.inner as unknown as Record<string, (...args: unknown[]) => Promise<{ id: string }>>;
  const original = inner[method]!.bind(inner);
  let made!: (id: string | null) => void;
  const result = new Promise<string | null>((resolve) => {
    made = resolve;
  });
  inner[method] = async (...args: unknown[]) => {
    inner[method] = original;
    if (when === 'before') await parked.pass();
    try {
      const resource = await original(...args);
      made(resource.id);
      if (when === 'after') await parked.pass();
      return resource;
    } catch (error) {
      made(null);
      throw error;
    }
  };
  return { parked, made: result };
}

/** Ask for a provision of `sub`'s; the 202's body. */
async function provision(sub: string, key: string) {
  const token = await h.token({ sub });
  const res = await h.request('POST', '/v1/instances', { token, body: {}, headers: { 'idempotency-key': key } });
  expect(res.status).toBe(202);
  return { token, id: res.body.instance.id as string, executionName: res.body.operation.executionName as string, executionArn: res.body.operation.executionArn as string };
}

/** Poll `check` until it holds, up to 20 s: the stale step's destroy runs after its create answers, with nothing to await. */
async function eventually(check: () => Promise<boolean>): Promise<boolean> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

/** Gone, by a GET of it by id (never a list). */
const gone = (resource: { state: string } | null) => resource === null || resource.state === 'destroyed';

describe('cancelling an operation', () => {
  it.each([
    ['its volume create hangs on the way to the provider', 'createVolume', 'before'],
    ['its machine create reached the provider and its answer hangs', 'createMachine', 'after'],
  ] as const)('cancels a slow provision (%s): what it made is destroyed (by GET by id), the reservation released, the instance failed with code cancelled', async (_label, method, when) => {
    // Arrange
    const { parked, made } = holdNextCreate(method, when);
    const sub = `cancel-slow-${method}`;
    const { token, id, executionName, executionArn } = await provision(sub, `cancel-slow-${method}-1`);
    await parked.entered;
    const recorded = await h.instanceItem(id);

    // Act
    const res = await h.request('DELETE', `/v1/instances/${id}/operations/${executionName}`, { token });
    const closed = await h.waitForExecution(executionArn);
    const reservation = await h.item(keys.reservation(`user:${sub}`));
    // The create answers after the settle: its step finds the claim gone and destroys what it made.
    parked.open();
    const madeId = await made;
    if (method === 'createMachine' && madeId) await h.backend.waitForState(madeId, 'destroyed', 20_000).catch(() => undefined);
    const again = await h.request('DELETE', `/v1/instances/${id}/operations/${executionName}`, { token });
    const next = await h.request('POST', '/v1/instances', { token, body: {}, headers: { 'idempotency-key': `cancel-slow-${method}-2` } });

    // Assert
    expect(res.status).toBe(200);
    expect(res.headers.get('location')).toBe(`/v1/instances/${id}/operations/${executionName}`);
    expect(res.body).toMatchObject({
      settled: true,
      instance: { id, status: 'failed', currentOperation: null, lastStartError: { code: 'cancelled' } },
      operation: { name: executionName, status: 'ABORTED', error: 'Cancelled' },
      cancel: { executionName, requestedBy: `user:${sub}` },
    });
    expect(closed.status).toBe('ABORTED');
    expect(reservation).toMatchObject({ status: 'released', activeInstances: 0 });
    expect(madeId).not.toBeNull();
    if (method === 'createVolume') {
      // Made after the settle: only its own step could destroy it.
      expect(recorded?.volumeId).toBeUndefined();
      await expect(eventually(async () => gone(await h.backend.getVolume(madeId!)))).resolves.toBe(true);
    } else {
      expect(gone(await h.backend.getMachine(madeId!))).toBe(true);
      expect(gone(await h.backend.getVolume(recorded!.volumeId!))).toBe(true);
    }
    expect([again.status, again.body.cancel, again.body.settled, again.body.instance.status]).toEqual([200, res.body.cancel, true, 'failed']);
    expect(next.status).toBe(202);
    await h.waitForExecution(next.body.operation.executionArn);
  });

  it('settles once under 8 concurrent cancels of the same provision: every answer 200 cancelled, the quota slot returned once', async () => {
    // Arrange
    const { parked, made } = holdNextCreate('createMachine', 'before');
    const sub = 'cancel-concurrent';
    const { token, id, executionName } = await provision(sub, 'cancel-concurrent-1');
    await parked.entered;

    // Act
    const answers = await Promise.all(Array.from({ length: 8 }, () => h.request('DELETE', `/v1/instances/${id}/operations/${executionName}`, { token })));
    parked.open();
    await made;
    const again = await h.request('DELETE', `/v1/instances/${id}/operations/${executionName}`, { token });

    // Assert
    expect(answers.map((a) => [a.status, a.body.settled, a.body.instance.status, a.body.instance.lastStartError?.code])).toEqual(Array.from({ length: 8 }, () => [200, true, 'failed', 'cancelled']));
    expect(await h.item(keys.reservation(`user:${sub}`))).toMatchObject({ status: 'released', activeInstances: 0 });
    expect(answers.map((a) => a.body.cancel.executionName)).toEqual(Array.from({ length: 8 }, () => executionName));
    expect(again.body.cancel).toEqual((await h.instanceItem(id))!.cancelRequest);
  });

  it('cancels a provision whose execution never started: the sweep fails it cancelled, and never starts it', async () => {
    // Arrange: the admission stands but its StartExecution fails (the workflow service unreachable).
    const sub = 'cancel-never-started';
    const token = await h.token({ sub });
    const sfn = h.runtime.deps.sfn;
    const send = sfn.send.bind(sfn);
    sfn.send = (async (command: unknown, ...rest: unknown[]) => {
      if (command instanceof StartExecutionCommand) throw new Error('the workflow service is unreachable');
      return (send as (...a: unknown[]) => unknown)(command, ...rest);
    }) as typeof sfn.send;
    const refused = await h.request('POST', '/v1/instances', { token, body: {}, headers: { 'idempotency-key': 'cancel-never-started-1' } });
    sfn.send = send as typeof sfn.send;
    const id = (await h.request('GET', '/v1/instances', { token })).body.items[0].id as string;
    const name = (await h.instanceItem(id))!.operations![0]!.executionName;

    // Act: cancelled while its execution does not exist yet; then the sweep, past the start grace.
    const res = await h.request('DELETE', `/v1/instances/${id}/operations/${name}`, { token });
    await runReconcile(h.later(180));
    await h.runtime.stepFunctions.idle();

    // Assert
    expect([refused.status, refused.body.code]).toEqual([503, 'workflow_unavailable']);
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ settled: false, operation: { status: 'PENDING' }, instance: { status: 'provisioning' } });
    expect(await h.instanceItem(id)).toMatchObject({ status: 'failed', lastStartError: { code: 'cancelled' } });
    expect(await h.item(keys.reservation(`user:${sub}`))).toMatchObject({ status: 'released', activeInstances: 0 });
    expect((await describeOperation(h.later(180), { kind: 'provision', executionName: name, ended: true })).status).toBe('LOST');
  });

  it('answers 202 (not settled yet) when the settle outlasts its bound, and a repeat answers 200 once it has settled', async () => {
    // Arrange: the provision hangs at its machine create, and the settle's cleanup at the volume delete.
    const { parked, made } = holdNextCreate('createMachine', 'before');
    const sub = 'cancel-bounded';
    const { token, id, executionName } = await provision(sub, 'cancel-bounded-1');
    await parked.entered;
    const cleanup = holdCalls(h.provider.inner, 'deleteVolume');
    const settings = h.runtime.deps.settings;
    const bound = settings.cancelSettleMs;
    settings.cancelSettleMs = 200;

    // Act
    const res = await h.request('DELETE', `/v1/instances/${id}/operations/${executionName}`, { token });
    settings.cancelSettleMs = bound;
    await cleanup.entered;
    cleanup.restore();
    cleanup.open();
    parked.open();
    await made;
    const settled = await eventually(async () => (await h.instanceItem(id))?.claim === undefined);
    const again = await h.request('DELETE', `/v1/instances/${id}/operations/${executionName}`, { token });

    // Assert
    expect(res.status).toBe(202);
    expect(res.headers.get('location')).toBe(`/v1/instances/${id}/operations/${executionName}`);
    expect(res.body).toMatchObject({ settled: false, instance: { status: 'provisioning', currentOperation: { executionName } }, operation: { status: 'ABORTED' } });
    expect(settled).toBe(true);
    expect([again.status, again.body.settled, again.body.cancel, again.body.instance.status, again.body.instance.lastStartError?.code]).toEqual([200, true, res.body.cancel, 'failed', 'cancelled']);
  });

  it('cancels a stop held at the provider: the instance shows the machine as it is (running), lastStopError code cancelled', async () => {
    // Arrange
    const { id, token } = await provisionRunning(h, 'cancel-stop');
    const parked = holdCalls(h.provider.inner, 'stopMachine');
    const stop = await operate(h, token, id, 'stop');
    await parked.entered;

    // Act
    const res = await h.request('DELETE', stop.headers.get('location')!, { token });
    parked.restore();

    // Assert
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ settled: true, instance: { status: 'running', currentOperation: null, lastStopError: { code: 'cancelled' } }, operation: { status: 'ABORTED' } });
    expect((await h.instanceItem(id))?.claim).toBeUndefined();
    // The stop call in flight still reaches the provider once let through (Step Functions does not
    // interrupt a running Task); the fleet inventory then finds the stopped machine of a running instance.
    parked.open();
  });

  it('cancels a switch held at its machine create on the target: rolled back to the old provider, running again, lastSwitchError code cancelled', async () => {
    // Arrange
    const { id, token } = await provisionRunning(h, 'cancel-switch');
    const before = (await h.instanceItem(id))!;
    const west = h.west!;
    const parked = holdCalls(west.provider.inner, 'createMachine', { once: true });
    const sw = await h.request('POST', `/v1/instances/${id}/switch-provider`, { token, body: { provider: west.name } });
    await parked.entered;
    const targetVolume = (await h.instanceItem(id))!.volumeId!;

    // Act
    const res = await h.request('DELETE', sw.headers.get('location')!, { token });
    const restart = (await h.instanceItem(id))!;
    if (restart.claim) await h.waitForExecution(`${h.runtime.deps.stateMachines.start.replace(':stateMachine:', ':execution:')}:${restart.claim}`);
    parked.open();

    // Assert: the old provider again, the target's volume gone (by GET by id), and a start of the old machine.
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ settled: true, instance: { provider: h.provider.name, lastSwitchError: { code: 'cancelled' } }, operation: { status: 'ABORTED' } });
    expect(restart.operation).toBe('start');
    expect(await h.instanceItem(id)).toMatchObject({ status: 'running', provider: h.provider.name, machineId: before.machineId, volumeId: before.volumeId });
    expect(gone(await west.backend.getVolume(targetVolume))).toBe(true);
  });

  it('refuses an operation that has ended with 409 operation_ended, and a destroy with 409 operation_not_cancellable', async () => {
    // Arrange
    const { id, token } = await provisionRunning(h, 'cancel-ended');
    const provisionName = (await h.instanceItem(id))!.operations![0]!.executionName;
    const parked = holdCalls(h.provider.inner, 'destroyMachine');
    const destroy = await operate(h, token, id, 'destroy');
    await parked.entered;

    // Act
    const ended = await h.request('DELETE', `/v1/instances/${id}/operations/${provisionName}`, { token });
    const destroying = await h.request('DELETE', destroy.headers.get('location')!, { token });
    parked.restore();
    parked.open();
    const closed = await h.waitForExecution(destroy.body.operation.executionArn);

    // Assert
    expect([ended.status, ended.body.code, ended.body.executionName]).toEqual([409, 'operation_ended', provisionName]);
    expect([destroying.status, destroying.body.code, destroying.body.kind]).toEqual([409, 'operation_not_cancellable', 'destroy']);
    expect(closed.status).toBe('SUCCEEDED');
    expect((await h.instanceItem(id))?.status).toBe('destroyed');
  });

  it('answers an unknown operation with 404 execution_not_found, and another owner with 404 instance_not_found, changing nothing', async () => {
    // Arrange
    const { id, token } = await provisionRunning(h, 'cancel-404');
    const intruder = await h.token({ sub: 'cancel-intruder' });
    const before = await h.instanceItem(id);
    const name = before!.operations![0]!.executionName;

    // Act
    const unknown = await h.request('DELETE', `/v1/instances/${id}/operations/${id}-stop-v99`, { token });
    const foreign = await h.request('DELETE', `/v1/instances/${id}/operations/${name}`, { token: intruder });

    // Assert
    expect([unknown.status, unknown.body.code]).toEqual([404, 'execution_not_found']);
    expect([foreign.status, foreign.body.code]).toEqual([404, 'instance_not_found']);
    expect(await h.instanceItem(id)).toEqual(before);
  });
});

import { QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../../lambdas/store/keys';
import { claimInstance } from '../../lambdas/domain/claims';
import { executionArnOf } from '../../lambdas/adapters/workflows';
import { releaseReservation } from '../../lambdas/domain/reservation';
import type { Deps } from '../../lambdas/composition/deps';
import { ProviderCapacityError } from '../../lambdas/shared/errors/provider';
import { startHarness, type Harness } from '../support/harness';
import { operateAndWait, provisionRunning } from '../support/instances';
import { slowProvider } from '../support/slow-provider';

let h: Harness;
/** Provider delays a test may set (ms); the harness provider reads them on every call. */
const delays: Parameters<typeof slowProvider>[1] = {};
let adminToken: string;

beforeAll(async () => {
  h = await startHarness({ wrap: (p) => slowProvider(p, delays) });
  adminToken = await h.token({ sub: 'operator-1', admin: true });
});
afterAll(async () => {
  await h.close();
});
beforeEach(() => {
  h.provider.reset();
  for (const method of Object.keys(delays)) delete delays[method as keyof typeof delays];
  delete h.runtime.deps.consoleUrlPrefix;
});

const arnOf = (kind: 'provision' | 'start' | 'stop', name: string) => executionArnOf(h.runtime.deps.stateMachines[kind], name);

/** Provision with the API and return the 202 body without waiting for the execution. */
async function admit(sub: string, key: string) {
  const token = await h.token({ sub });
  const res = await h.request('POST', '/v1/instances', { token, body: {}, headers: { 'idempotency-key': key } });
  return { res, token };
}

describe('GET /v1/instances/{id}/operations', () => {
  it('lists provision, stop and start newest first with their statuses', async () => {
    // Arrange
    const { id, token } = await provisionRunning(h, 'ops-list');
    await operateAndWait(h, token, id, 'stop');
    await operateAndWait(h, token, id, 'start');

    // Act
    const res = await h.request('GET', `/v1/instances/${id}/operations`, { token });

    // Assert
    expect(res.status).toBe(200);
    expect(res.body.instanceId).toBe(id);
    expect(res.body.items.map((e: { kind: string; name: string; status: string; executionArn: string; consoleUrl: string | null }) => [e.kind, e.name, e.status, e.executionArn, e.consoleUrl])).toEqual([
      ['start', `${id}-start-v3`, 'SUCCEEDED', arnOf('start', `${id}-start-v3`), null],
      ['stop', `${id}-stop-v2`, 'SUCCEEDED', arnOf('stop', `${id}-stop-v2`), null],
      ['provision', `${id}-provision-v1`, 'SUCCEEDED', arnOf('provision', `${id}-provision-v1`), null],
    ]);
    for (const execution of res.body.items) {
      expect(execution).toMatchObject({ error: null, message: null, startedAt: expect.any(String), stoppedAt: expect.any(String), requestedAt: expect.any(String) });
      expect(Date.parse(execution.stoppedAt)).toBeGreaterThanOrEqual(Date.parse(execution.startedAt));
    }
  });

  it('links each execution to the console when a prefix is configured', async () => {
    // Arrange
    const { id, token } = await provisionRunning(h, 'ops-console');
    h.runtime.deps.consoleUrlPrefix = 'https://console.example/';

    // Act
    const res = await h.request('GET', `/v1/instances/${id}/operations`, { token });

    // Assert
    const arn = arnOf('provision', `${id}-provision-v1`);
    expect(res.body.items).toEqual([expect.objectContaining({ executionArn: arn, consoleUrl: `https://console.example/${arn}` })]);
  });

  it('shows a failed start as FAILED with its error name', async () => {
    // Arrange
    const { id, token } = await provisionRunning(h, 'ops-failed');
    await operateAndWait(h, token, id, 'stop');
    h.provider.failNext('startMachine', () => new ProviderCapacityError('no capacity for this start'), { times: 1 });
    expect((await operateAndWait(h, token, id, 'start')).status).toBe('FAILED');

    // Act
    const res = await h.request('GET', `/v1/instances/${id}/operations`, { token });

    // Assert
    expect(res.status).toBe(200);
    expect(res.body.items[0]).toMatchObject({ kind: 'start', name: `${id}-start-v3`, status: 'FAILED', error: 'ProviderCapacity' });
    expect(res.body.items[0].message).toBe('no capacity for this start');
    expect(res.body.items[0]).not.toHaveProperty('cause');
    expect(res.body.items.slice(1).map((e: { status: string }) => e.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
  });

  it('shows a claimed operation whose execution has not started as PENDING', async () => {
    // Arrange: the lifecycle claim, without its StartExecution.
    const { id, token } = await provisionRunning(h, 'ops-pending');
    const name = (await claimInstance(h.runtime.deps, id, ['user:ops-pending'], 'stop')).executionName;

    // Act
    const res = await h.request('GET', `/v1/instances/${id}/operations`, { token });

    // Assert
    expect(res.body.items[0]).toEqual({
      name,
      kind: 'stop',
      executionArn: arnOf('stop', name),
      status: 'PENDING',
      requestedAt: expect.any(String),
      startedAt: null,
      stoppedAt: null,
      error: null,
      message: null,
      consoleUrl: null,
    });
  });

  it("answers 404 for another owner's instance, and its owner's tombstone with its history", async () => {
    // Arrange
    const { id, token } = await provisionRunning(h, 'ops-owner');
    const intruder = await h.token({ sub: 'ops-intruder' });

    // Act
    const foreign = await h.request('GET', `/v1/instances/${id}/operations`, { token: intruder });
    await operateAndWait(h, token, id, 'destroy');
    const tombstone = await h.request('GET', `/v1/instances/${id}/operations`, { token });

    // Assert
    expect(foreign.status).toBe(404);
    expect(foreign.body).toMatchObject({ code: 'instance_not_found' });
    // The owner keeps the history a tombstone still has (issue 22).
    expect(tombstone.status).toBe(200);
    expect(tombstone.body.items.map((op: { kind: string }) => op.kind)).toEqual(['destroy', 'provision']);
  });
});

describe('GET /v1/admin/instances/{id}', () => {
  it('shows the stored item, reservation and live provider view', async () => {
    // Arrange
    const { id } = await provisionRunning(h, 'admin-view');
    const stored = (await h.instanceItem(id))!;
    const snapshot = await h.backend.createSnapshot(stored.volumeId!);

    // Act
    const res = await h.request('GET', `/v1/admin/instances/${id}`, { token: adminToken });

    // Assert
    expect(res.status).toBe(200);
    expect(res.body.instance).toEqual(JSON.parse(JSON.stringify(stored)));
    expect(res.body.instance).toMatchObject({ version: 1, lastClaim: `${id}-provision-v1`, operations: [{ kind: 'provision', executionName: `${id}-provision-v1` }] });
    expect(res.body.currentExecution).toBeNull();
    expect(res.body.reservation).toMatchObject({ owner: 'user:admin-view', status: 'completed', instanceId: id, version: 1, executionName: `${id}-provision-v1` });
    expect(res.body.provider.name).toBe('local');
    expect(res.body.provider.machine).toMatchObject({ id: stored.machineId, state: 'started', mount: { volumeId: stored.volumeId } });
    expect(res.body.provider.volume).toMatchObject({ id: stored.volumeId, attachedMachineId: stored.machineId });
    expect(res.body.provider.snapshots).toEqual([expect.objectContaining({ id: snapshot.id, volumeId: stored.volumeId })]);
    expect(res.body.provider.inventory.machines.map((m: { id: string }) => m.id)).toEqual([stored.machineId]);
    expect(res.body.provider.inventory.volumes.map((v: { id: string }) => v.id)).toEqual([stored.volumeId]);
  });

  it('shows a provider fault as an error part, not a 500', async () => {
    // Arrange
    const { id } = await provisionRunning(h, 'admin-fault');
    h.provider.failNext('getMachine', new Error('boom'), { times: 1 });

    // Act
    const res = await h.request('GET', `/v1/admin/instances/${id}`, { token: adminToken });

    // Assert
    expect(res.status).toBe(200);
    expect(res.body.provider.machine).toEqual({ error: 'boom' });
    expect(res.body.provider.volume).toMatchObject({ id: res.body.instance.volumeId });
    expect(res.body.provider.inventory.machines).toHaveLength(1);
  });

  it('shows a tombstone, and 404 for an id that does not exist', async () => {
    // Arrange
    const { id, token } = await provisionRunning(h, 'admin-tomb');
    await operateAndWait(h, token, id, 'destroy');

    // Act
    const tomb = await h.request('GET', `/v1/admin/instances/${id}`, { token: adminToken });
    const missing = await h.request('GET', '/v1/admin/instances/i-00000000000000000000000000', { token: adminToken });

    // Assert
    expect(tomb.status).toBe(200);
    expect(tomb.body.instance).toMatchObject({ instanceId: id, status: 'destroyed' });
    expect(tomb.body.provider).toMatchObject({ machine: { state: 'destroyed' }, volume: { state: 'destroyed' }, snapshots: [], inventory: { machines: [], volumes: [] } });
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ code: 'instance_not_found' });
  });

  it('refuses tokens without the admin scope with 403 on every admin route', async () => {
    // Arrange
    const { id, token } = await provisionRunning(h, 'admin-denied');

    // Act
    const answers = await Promise.all([
      h.request('GET', `/v1/admin/instances/${id}`, { token }),
      h.request('GET', '/v1/admin/owners/user:admin-denied', { token }),
      h.request('POST', '/v1/admin/owners/user:admin-denied/reservation/release', { token, body: { reason: 'let me in' } }),
    ]);

    // Assert
    expect(answers.map((a) => [a.status, a.body.code])).toEqual([
      [403, 'forbidden'],
      [403, 'forbidden'],
      [403, 'forbidden'],
    ]);
  });
});

describe('GET /v1/admin/owners/{owner}', () => {
  it('lists instances including tombstones, the reservation and the quota', async () => {
    // Arrange
    const first = await provisionRunning(h, 'registry');
    const second = await provisionRunning(h, 'registry');
    await operateAndWait(h, first.token, first.id, 'destroy');

    // Act
    const res = await h.request('GET', '/v1/admin/owners/user:registry', { token: adminToken });
    const page = await h.request('GET', `/v1/admin/owners/${encodeURIComponent('user:registry')}?limit=1`, { token: adminToken });
    const next = await h.request('GET', `/v1/admin/owners/user:registry?limit=1&cursor=${page.body.instances.nextCursor}`, { token: adminToken });

    // Assert
    expect(res.status).toBe(200);
    expect(res.body.owner).toBe('user:registry');
    expect(res.body.instances.items.map((i: { id: string; status: string }) => [i.id, i.status])).toEqual([
      [second.id, 'running'],
      [first.id, 'destroyed'],
    ]);
    expect(res.body.reservation).toMatchObject({ status: 'completed', instanceId: second.id, version: 2 });
    expect(res.body.quota).toEqual({ activeInstances: 1, limit: 5 });
    expect(res.body.audit).toEqual([]);
    expect(page.body.instances.items.map((i: { id: string }) => i.id)).toEqual([second.id]);
    expect(next.body.instances.items.map((i: { id: string }) => i.id)).toEqual([first.id]);
  });

  it('refuses a malformed owner with 400', async () => {
    const res = await h.request('GET', '/v1/admin/owners/alice', { token: adminToken });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'validation_failed' });
  });
});

describe('POST /v1/admin/owners/{owner}/reservation/release', () => {
  const release = (owner: string, body: unknown = { reason: 'stuck after a provider outage' }) =>
    h.request('POST', `/v1/admin/owners/${owner}/reservation/release`, { token: adminToken, body });

  it('refuses while the provision execution runs, and once it completed', async () => {
    // Arrange: creating the volume takes long enough for the release to land mid-provision.
    delays.createVolume = 1000;
    const { res } = await admit('release-running', 'release-running-key-1');
    expect(res.status).toBe(202);

    // Act
    const whileRunning = await release('user:release-running');
    const debug = await h.request('GET', `/v1/admin/instances/${res.body.instance.id}`, { token: adminToken });
    const closed = await h.waitForExecution(res.body.operation.executionArn);
    const afterCompletion = await release('user:release-running');

    // Assert
    expect(whileRunning.status).toBe(409);
    expect(whileRunning.body).toMatchObject({ code: 'execution_still_running', executionArn: res.body.operation.executionArn });
    expect(debug.body.currentExecution).toMatchObject({ kind: 'provision', status: 'RUNNING', executionArn: res.body.operation.executionArn, stoppedAt: null });
    expect(closed.status).toBe('SUCCEEDED');
    expect(afterCompletion.status).toBe(409);
    expect(afterCompletion.body).toMatchObject({ code: 'reservation_not_releasable', reservationStatus: 'completed' });
    expect(await h.item(keys.reservation('user:release-running'))).toMatchObject({ status: 'completed', version: 1 });
  });

  it('releases a reservation left in needs_reconciliation, stores the audit record and admits the next provision', async () => {
    // Arrange: the owner's provision was handed to reconciliation.
    const { id } = await provisionRunning(h, 'release-stuck');
    const at = new Date().toISOString();
    await h.runtime.deps.db.send(
      new UpdateCommand({
        TableName: h.runtime.deps.tableName,
        Key: keys.reservation('user:release-stuck'),
        UpdateExpression: 'SET #status = :stuck, attentionShard = :shard, attentionAt = :at',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':stuck': 'needs_reconciliation', ':shard': 'A0', ':at': at },
      }),
    );
    const refused = await admit('release-stuck', 'release-stuck-key-refused');
    expect(refused.res.body).toMatchObject({ code: 'reconciliation_pending' });

    // Act
    const res = await release('user:release-stuck', { reason: 'cleanup verified by hand (ticket OPS-42)' });

    // Assert
    expect(res.status).toBe(200);
    const stored = await h.item(keys.reservation('user:release-stuck'));
    expect(stored).toMatchObject({ status: 'released', version: 1, instanceId: id, releasedBy: 'user:operator-1', releaseReason: 'cleanup verified by hand (ticket OPS-42)' });
    expect(stored!.attentionShard).toBeUndefined();
    expect(stored!.attentionAt).toBeUndefined();
    expect(res.body.reservation).toEqual(stored);
    expect(res.body.audit).toEqual({
      id: expect.stringMatching(/^[0-9A-Z]{26}$/),
      owner: 'user:release-stuck',
      action: 'reservation.release',
      actor: 'user:operator-1',
      reason: 'cleanup verified by hand (ticket OPS-42)',
      at: stored!.releasedAt,
      before: { status: 'needs_reconciliation', version: 1, instanceId: id },
    });
    const audit = await h.runtime.deps.db.send(
      new QueryCommand({
        TableName: h.runtime.deps.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :audit)',
        ExpressionAttributeValues: { ':pk': 'OWNER#user:release-stuck', ':audit': 'AUDIT#' },
      }),
    );
    expect(audit.Items).toEqual([{ pk: 'OWNER#user:release-stuck', sk: `AUDIT#${res.body.audit.at}#${res.body.audit.id}`, type: 'audit', ...res.body.audit }]);
    const registry = await h.request('GET', '/v1/admin/owners/user:release-stuck', { token: adminToken });
    expect(registry.body.audit).toEqual([res.body.audit]);

    const next = await admit('release-stuck', 'release-stuck-key-next');
    expect(next.res.status).toBe(202);
    expect((await h.waitForExecution(next.res.body.operation.executionArn)).status).toBe('SUCCEEDED');
    expect(await h.item(keys.reservation('user:release-stuck'))).toMatchObject({ status: 'completed', version: 2, instanceId: next.res.body.instance.id });
  });

  it('lets exactly one of two concurrent releases through and audits it once', async () => {
    // Arrange
    await provisionRunning(h, 'release-race');
    await h.runtime.deps.db.send(
      new UpdateCommand({
        TableName: h.runtime.deps.tableName,
        Key: keys.reservation('user:release-race'),
        UpdateExpression: 'SET #status = :stuck',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':stuck': 'needs_reconciliation' },
      }),
    );

    // Act
    const answers = await Promise.all([release('user:release-race'), release('user:release-race')]);

    // Assert
    expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);
    expect(answers.find((a) => a.status === 409)!.body).toMatchObject({ code: 'reservation_not_releasable', reservationStatus: 'released' });
    const registry = await h.request('GET', '/v1/admin/owners/user:release-race', { token: adminToken });
    expect(registry.body.audit).toHaveLength(1);
  });

  it('decides again on fresh state when the reservation changes between its read and the fenced write', async () => {
    // Arrange: while the release looks at the execution, the reservation moves on to a new version
    // (same status, another instance), as if the sweep had released it and a new provision was stuck.
    await provisionRunning(h, 'release-fence');
    const owner = 'user:release-fence';
    const setReservation = (set: string, values: Record<string, unknown>) =>
      h.runtime.deps.db.send(
        new UpdateCommand({
          TableName: h.runtime.deps.tableName,
          Key: keys.reservation(owner),
          UpdateExpression: set,
          ExpressionAttributeNames: { '#status': 'status', '#version': 'version' },
          ExpressionAttributeValues: values,
        }),
      );
    await setReservation('SET #status = :stuck, #version = :v', { ':stuck': 'needs_reconciliation', ':v': 1 });
    let describes = 0;
    const deps: Deps = {
      ...h.runtime.deps,
      sfn: {
        send: async (command: Parameters<Deps['sfn']['send']>[0]) => {
          if (++describes === 1) await setReservation('SET #status = :stuck, #version = :v, instanceId = :other, executionName = :name', { ':stuck': 'needs_reconciliation', ':v': 2, ':other': 'i-other', ':name': 'i-other-provision-v1' });
          return h.runtime.deps.sfn.send(command);
        },
      } as unknown as Deps['sfn'],
    };

    // Act
    const result = await releaseReservation(deps, owner, 'user:operator-1', { reason: 'fence check' });

    // Assert
    expect(describes).toBe(2);
    expect(result.audit.before).toEqual({ status: 'needs_reconciliation', version: 2, instanceId: 'i-other' });
    expect(await h.item(keys.reservation(owner))).toMatchObject({ status: 'released', version: 2, instanceId: 'i-other' });
    const registry = await h.request('GET', `/v1/admin/owners/${owner}`, { token: adminToken });
    expect(registry.body.audit).toEqual([result.audit]);
  });

  it('answers 404 without a reservation and 400 for a missing, short or extra-field body', async () => {
    // Act
    const none = await release('user:release-nobody');
    const bodies = await Promise.all([release('user:release-nobody', {}), release('user:release-nobody', { reason: 'no' }), release('user:release-nobody', { reason: 'fine reason', force: true })]);

    // Assert
    expect(none.status).toBe(404);
    expect(none.body).toMatchObject({ code: 'reservation_not_found' });
    expect(bodies.map((b) => [b.status, b.body.code])).toEqual([
      [400, 'validation_failed'],
      [400, 'validation_failed'],
      [400, 'validation_failed'],
    ]);
  });
});

describe('OpenAPI document', () => {
  it('documents the operations and admin routes with their response schemas', async () => {
    const doc = (await h.request('GET', '/openapi.json')).body;

    expect(doc.paths['/v1/instances/{id}/operations'].get.responses['200'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/OperationsPage' });
    expect(doc.paths['/v1/admin/instances/{id}'].get.responses['200'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/AdminInstanceView' });
    expect(doc.paths['/v1/admin/owners/{owner}'].get.responses['200'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/OwnerRegistry' });
    expect(doc.paths['/v1/admin/owners/{owner}/reservation/release'].post.responses['200'].content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/ReservationRelease',
    });
    expect(Object.keys(doc.paths['/v1/admin/owners/{owner}/reservation/release'].post.responses).sort()).toEqual(['200', '400', '401', '403', '404', '409', '413', '415', '503']);
  });
});

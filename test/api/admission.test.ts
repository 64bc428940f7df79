import { ListExecutionsCommand } from '@aws-sdk/client-sfn';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../../lambdas/store/keys';
import { instanceIdFor } from '../../lambdas/operations/provision/request';
import { startHarness, type Harness } from '../support/harness';
import { operateAndWait } from '../support/instances';

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
    expect(await h.item(keys.reservation('user:race-64'))).toMatchObject({ status: 'completed', activeInstances: 1, version: 1 });
  });

  it('answers the losers of a 64-way race from reads, with one transaction, when admissions read first', async () => {
    // Arrange: count admission transactions (their first item puts an instance of this owner).
    const token = await h.token({ sub: 'race-reads' });
    let admissionTransactions = 0;
    const counting = (next: (args: unknown) => Promise<unknown>) => async (args: unknown) => {
      const input = (args as { input: { TransactItems?: Array<{ Put?: { Item?: Record<string, unknown> } }> } }).input;
      if (input.TransactItems?.[0]?.Put?.Item?.owner === 'user:race-reads') admissionTransactions += 1;
      return next(args);
    };
    h.runtime.deps.db.middlewareStack.add(counting as never, { step: 'initialize', name: 'countAdmissionTransactions' });
    h.runtime.deps.settings.admissionReadsFirst = true;

    // Act
    const responses = await Promise.all(
      Array.from({ length: 64 }, (_, i) => h.request('POST', '/v1/instances', { token, body: {}, headers: { 'idempotency-key': `race-reads-key-${i}` } })),
    ).finally(() => {
      h.runtime.deps.settings.admissionReadsFirst = false;
      h.runtime.deps.db.middlewareStack.remove('countAdmissionTransactions');
    });

    // Assert
    expect(responses.map((r) => r.status).sort()).toEqual([202, ...Array(63).fill(409)]);
    expect(admissionTransactions).toBe(1);
    const winner = responses.find((r) => r.status === 202)!.body;
    for (const r of responses.filter((x) => x.status === 409)) expect(r.body).toMatchObject({ code: 'provision_in_progress', instanceId: winner.instance.id });
    await h.waitForExecution(winner.operation.executionArn);
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
    expect(instanceId).toBe(instanceIdFor('user:replay-10', 'replay-10-key'));
    for (const r of responses) expect({ instance: r.body.instance, operation: r.body.operation }).toEqual({ instance: responses[0]!.body.instance, operation: responses[0]!.body.operation });
    await h.waitForExecution(responses[0]!.body.operation.executionArn);
    expect(await executionsFor(instanceId)).toHaveLength(1);
    expect(await h.item(keys.reservation('user:replay-10'))).toMatchObject({ activeInstances: 1, version: 1 });
  });

  it('replays the original 202 with the current state after the provision finished, and starts nothing', async () => {
    // Arrange
    const token = await h.token({ sub: 'replay-late' });
    const first = await h.request('POST', '/v1/instances', { token, body: {}, headers: { 'idempotency-key': 'replay-late-key' } });
    await h.waitForExecution(first.body.operation.executionArn);

    // Act
    const again = await h.request('POST', '/v1/instances', { token, body: {}, headers: { 'idempotency-key': 'replay-late-key' } });

    // Assert
    expect(again.status).toBe(202);
    expect(first.body.current).toBeUndefined();
    expect({ instance: again.body.instance, operation: again.body.operation }).toEqual(first.body);
    expect(again.body.current).toMatchObject({ id: first.body.instance.id, status: 'running', currentOperation: null });
    expect((await executionsFor(first.body.instance.id)).map((e) => e.status)).toEqual(['SUCCEEDED']);
  });

  it('starts nothing when a finished provision is replayed after the local runtime lost its executions', async () => {
    // Arrange: the executions live in the local endpoint's memory; a restart forgets them.
    const token = await h.token({ sub: 'replay-restart' });
    const first = await h.request('POST', '/v1/instances', { token, body: {}, headers: { 'idempotency-key': 'replay-restart-key' } });
    await h.waitForExecution(first.body.operation.executionArn);
    await h.crashAndRestart();
    const fresh = await h.token({ sub: 'replay-restart' });

    // Act
    const again = await h.request('POST', '/v1/instances', { token: fresh, body: {}, headers: { 'idempotency-key': 'replay-restart-key' } });

    // Assert
    expect(again.status).toBe(202);
    expect(again.body.current).toMatchObject({ status: 'running' });
    expect(await executionsFor(first.body.instance.id)).toEqual([]);
    expect(await h.instanceItem(first.body.instance.id)).toMatchObject({ status: 'running', lastClaim: `${first.body.instance.id}-provision-v1` });
  });

  it('replays an older key while a newer provision holds the reservation, instead of answering 409', async () => {
    // Arrange
    const token = await h.token({ sub: 'replay-old' });
    const first = await h.request('POST', '/v1/instances', { token, body: {}, headers: { 'idempotency-key': 'replay-old-key-1' } });
    await h.waitForExecution(first.body.operation.executionArn);
    const second = await h.request('POST', '/v1/instances', { token, body: {}, headers: { 'idempotency-key': 'replay-old-key-2' } });

    // Act
    const old = await h.request('POST', '/v1/instances', { token, body: {}, headers: { 'idempotency-key': 'replay-old-key-1' } });
    const other = await h.request('POST', '/v1/instances', { token, body: {}, headers: { 'idempotency-key': 'replay-old-key-3' } });

    // Assert
    expect(old.status).toBe(202);
    expect(old.body.instance.id).toBe(first.body.instance.id);
    expect(other.status).toBe(409);
    expect(other.body).toMatchObject({ code: 'provision_in_progress', instanceId: second.body.instance.id });
    await h.waitForExecution(second.body.operation.executionArn);
    expect(await h.item(keys.reservation('user:replay-old'))).toMatchObject({ activeInstances: 2, version: 2, instanceId: second.body.instance.id });
  });

  it('replays a destroyed instance’s key with its original 202 and creates nothing again', async () => {
    // Arrange
    const token = await h.token({ sub: 'replay-destroyed' });
    const first = await h.request('POST', '/v1/instances', { token, body: {}, headers: { 'idempotency-key': 'replay-destroyed-key' } });
    await h.waitForExecution(first.body.operation.executionArn);
    expect((await operateAndWait(h, token, first.body.instance.id, 'destroy')).status).toBe('SUCCEEDED');

    // Act
    const again = await h.request('POST', '/v1/instances', { token, body: {}, headers: { 'idempotency-key': 'replay-destroyed-key' } });

    // Assert
    expect(again.status).toBe(202);
    expect(again.body.instance).toEqual(first.body.instance);
    expect(again.body.current).toMatchObject({ status: 'destroyed' });
    expect(await executionsFor(first.body.instance.id)).toHaveLength(1);
    expect(await h.item(keys.reservation('user:replay-destroyed'))).toMatchObject({ activeInstances: 0, version: 1 });
  });

  it('leaves nothing of the previous reservation on a reused reservation item', async () => {
    // Arrange: an operator released the owner's last reservation (it records who, when and why).
    const token = await h.token({ sub: 'reuse-fields' });
    const admin = await h.token({ sub: 'ops', admin: true });
    const first = await h.request('POST', '/v1/instances', { token, body: {}, headers: { 'idempotency-key': 'reuse-fields-key-1' } });
    await h.waitForExecution(first.body.operation.executionArn);
    await h.runtime.deps.db.send(
      new UpdateCommand({
        TableName: h.runtime.deps.tableName,
        Key: keys.reservation('user:reuse-fields'),
        UpdateExpression: 'SET #status = :stuck',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':stuck': 'needs_reconciliation' },
      }),
    );
    expect((await h.request('POST', '/v1/admin/owners/user:reuse-fields/reservation/release', { token: admin, body: { reason: 'checked by hand' } })).status).toBe(200);
    expect(await h.item(keys.reservation('user:reuse-fields'))).toMatchObject({ releasedBy: 'user:ops', releaseReason: 'checked by hand' });

    // Act
    const next = await h.request('POST', '/v1/instances', { token, body: {}, headers: { 'idempotency-key': 'reuse-fields-key-2' } });

    // Assert
    expect(next.status).toBe(202);
    await h.waitForExecution(next.body.operation.executionArn);
    const reservation = (await h.item(keys.reservation('user:reuse-fields')))!;
    expect(reservation).toMatchObject({ status: 'completed', version: 2, instanceId: next.body.instance.id, idempotencyKey: 'reuse-fields-key-2', activeInstances: 2 });
    for (const stale of ['releasedBy', 'releasedAt', 'releaseReason', 'releasedReason', 'requestHash']) expect(reservation).not.toHaveProperty(stale);
  });

  it('refuses the same Idempotency-Key with another body (422) and changes nothing', async () => {
    const token = await h.token({ sub: 'reuse' });
    const first = await h.request('POST', '/v1/instances', { token, body: { name: 'a' }, headers: { 'idempotency-key': 'reuse-key-1' } });
    await h.waitForExecution(first.body.operation.executionArn);

    const res = await h.request('POST', '/v1/instances', { token, body: { name: 'b' }, headers: { 'idempotency-key': 'reuse-key-1' } });

    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ code: 'idempotency_key_reused' });
    expect(await h.item(keys.reservation('user:reuse'))).toMatchObject({ activeInstances: 1 });
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

/**
 * Drift by fleet inventory, on the real handlers, DynamoDB Local and provider (local processes, and
 * the Fly adapter against the fake Fly API): a healthy fleet costs one listing and no table write;
 * a dead machine is recovered by the next sweep; a listing that lies (stale) is refuted by the GET
 * by id; a paged listing is read to its end; the audit corrects what a state filter cannot see.
 */
import { inventoryFleet } from '../../lambdas/sweeps/reconcile/inventory';
import { runReconcile } from '../../lambdas/sweeps/reconcile/sweep';
import type { FleetPage } from '../../lambdas/providers/compute-provider';
import type { Deps } from '../../lambdas/composition/deps';
import { startHarness, testProviderKind as testKind, type Harness } from '../support/harness';
import { provisionRunning } from '../support/instances';
import { countingTable } from '../support/counting-table';
import { executionArn } from '../support/recovery';

let h: Harness;

beforeAll(async () => {
  // The audit only when a test asks for it (a run one audit period later).
  h = await startHarness({ settings: { orphanScanSeconds: 86_400, fleetAuditSeconds: 3600 } });
  // The first run of a fresh lease is an audit: take it now, so the tests see plain inventories.
  await runReconcile(h.runtime.deps);
});
afterAll(async () => {
  await h.close();
});
beforeEach(() => h.provider.reset());

/** The sweep one sweep period from now, its table writes and provider calls counted. */
async function sweepCounted(deps: Deps = h.later(h.runtime.deps.settings.sweepPeriodSeconds)) {
  const table = countingTable(deps.db);
  h.provider.reset();
  const report = await runReconcile({ ...deps, db: table.db });
  return { report, writes: table.writes(), reads: table.reads(), calls: h.provider.calls.map((call) => call.method) };
}

describe('fleet inventory', () => {
  it('costs a healthy fleet one listing per provider and no table write besides the lease', async () => {
    // Arrange
    const ids = await Promise.all(['inv-healthy-a', 'inv-healthy-b'].map(async (sub) => (await provisionRunning(h, sub)).id));
    const before = await Promise.all(ids.map((id) => h.instanceItem(id)));

    // Act
    const { report, writes, calls } = await sweepCounted();

    // Assert
    for (const item of before) expect(item as unknown as Record<string, unknown>).not.toHaveProperty('attentionAt');
    expect(report.inventory).toMatchObject({ audited: false, candidates: 0 });
    expect(calls.filter((method) => method === 'listNotRunning').length).toBe(report.inventory!.pages);
    expect(calls).not.toContain('getMachine');
    // Only the lease item is written (taken, released).
    expect(writes.filter((key) => !key.startsWith('SWEEP#'))).toEqual([]);
    expect(await Promise.all(ids.map((id) => h.instanceItem(id)))).toEqual(before);
  });

  it('recovers the instance whose machine died at the next sweep, reading only it', async () => {
    // Arrange
    const { id } = await provisionRunning(h, 'inv-dead');
    const { id: other } = await provisionRunning(h, 'inv-alive');
    const before = (await h.instanceItem(id))!;
    await h.killMachine(before.machineId!);

    // Act
    const { report, calls } = await sweepCounted();

    // Assert
    const started = report.actions.find((action) => action.target === `instance:${id}`);
    expect(started).toMatchObject({ action: 'recovery-started' });
    expect(report.actions.find((action) => action.target === `instance:${other}`)).toBeUndefined();
    expect(report.inventory!.candidates).toBe(1);
    expect(calls.filter((method) => method === 'getMachine').length).toBeGreaterThanOrEqual(1);
    expect((await h.waitForExecution(executionArn(h, 'recover', started!.detail!.split(':')[0]!))).status).toBe('SUCCEEDED');
    expect(await h.instanceItem(id)).toMatchObject({ status: 'running' });
  });

  it('acts on nothing a stale listing claims until a GET by id confirms it', async () => {
    // Arrange: the listing says a running machine is stopped (as a lagging list may).
    const { id } = await provisionRunning(h, 'inv-stale');
    const item = (await h.instanceItem(id))!;
    const original = h.provider.inner.listNotRunning.bind(h.provider.inner);
    h.provider.inner.listNotRunning = async (cursor?: string): Promise<FleetPage> => {
      const page = await original(cursor);
      return cursor ? page : { ...page, machines: [...page.machines, { id: item.machineId!, instanceId: id, state: 'stopped' }] };
    };

    // Act
    const { report, writes } = await sweepCounted().finally(() => {
      h.provider.inner.listNotRunning = original;
    });

    // Assert
    expect(report.actions.find((action) => action.target === `instance:${id}`)).toMatchObject({ action: 'healthy' });
    expect(writes.filter((key) => !key.startsWith('SWEEP#'))).toEqual([]);
    expect(await h.instanceItem(id)).toEqual(item);
  });

  it('reads a paged listing to its end', async () => {
    // Arrange: the dead machine is on the last of several pages.
    const { id } = await provisionRunning(h, 'inv-paged');
    const item = (await h.instanceItem(id))!;
    await h.killMachine(item.machineId!);
    const original = h.provider.inner.listNotRunning.bind(h.provider.inner);
    h.provider.inner.listNotRunning = async (cursor?: string): Promise<FleetPage> => {
      const page = await original();
      const index = Number(cursor ?? 0);
      return index < 2 ? { machines: [], cursor: String(index + 1) } : { ...page, cursor: null };
    };

    // Act
    const { report } = await sweepCounted().finally(() => {
      h.provider.inner.listNotRunning = original;
    });

    // Assert
    expect(report.inventory!.pages).toBe(3);
    const started = report.actions.find((action) => action.target === `instance:${id}`);
    expect(started).toMatchObject({ action: 'recovery-started' });
    await h.waitForExecution(executionArn(h, 'recover', started!.detail!.split(':')[0]!));
  });

  it('starts one recovery when two inventories run at once; the other reads skipped', async () => {
    // Arrange
    const { id } = await provisionRunning(h, 'inv-twice');
    await h.killMachine((await h.instanceItem(id))!.machineId!);

    // Act: two inventories (no lease between them: as a scheduler retry beside an operator's run would be, were the lease lost).
    const deps = h.later(h.runtime.deps.settings.sweepPeriodSeconds);
    const reports = await Promise.all([inventoryFleet(deps), inventoryFleet(deps)]);

    // Assert
    const mine = reports.flatMap((report) => report.actions.filter((action) => action.target === `instance:${id}`)).map((action) => action.action);
    expect(mine.filter((action) => action === 'recovery-started')).toHaveLength(1);
    // The other found it claimed: refused at its claim (skipped), or already off its candidates.
    expect(mine.filter((action) => action !== 'recovery-started').every((action) => action === 'skipped')).toBe(true);
    const started = reports.flatMap((report) => report.actions).find((action) => action.target === `instance:${id}` && action.action === 'recovery-started')!;
    expect((await h.waitForExecution(executionArn(h, 'recover', started.detail!.split(':')[0]!))).status).toBe('SUCCEEDED');
  });

  it('leaves a changed address to the audit, which corrects it by listing', async () => {
    // Arrange: the table's address is wrong (the machine answers elsewhere); a state filter cannot see it.
    const { id } = await provisionRunning(h, 'inv-address');
    const item = (await h.instanceItem(id))!;
    const { UpdateCommand } = await import('@aws-sdk/lib-dynamodb');
    await h.runtime.deps.db.send(new UpdateCommand({ TableName: h.runtime.deps.tableName, Key: { pk: item.pk, sk: item.sk }, UpdateExpression: 'SET endpoint = :e', ExpressionAttributeValues: { ':e': 'http://127.0.0.1:1' } }));

    // Act
    const plain = await sweepCounted();
    const audit = await sweepCounted(h.later(3600 + 120));

    // Assert
    expect(plain.report.actions.find((action) => action.target === `instance:${id}`)).toBeUndefined();
    expect(audit.report.inventory).toMatchObject({ audited: true });
    expect(audit.report.actions.find((action) => action.target === `instance:${id}`)).toMatchObject({ action: 'endpoint-corrected' });
    expect((await h.instanceItem(id))!.endpoint).toBe(item.endpoint);
  });
});

/** Wait (for the event, bounded) until the instance item satisfies `done`. */
async function waitForItem(harness: Harness, id: string, done: (item: Awaited<ReturnType<Harness['instanceItem']>>) => boolean): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!done(await harness.instanceItem(id))) {
    if (Date.now() > deadline) throw new Error(`instance ${id} never got there: ${JSON.stringify(await harness.instanceItem(id))}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// The push is the local provider's (it owns the machine processes); Fly has none: its exits wait for the inventory.
(testKind() === 'local' ? describe : describe.skip)('machine exit push (local provider)', () => {
  let pushed: Harness;
  beforeAll(async () => {
    pushed = await startHarness({ env: { MACHINE_EXIT_PUSH: 'true' }, settings: { orphanScanSeconds: 86_400 } });
  });
  afterAll(async () => {
    await pushed.close();
  });

  it('starts the recovery of a killed machine at once, with no sweep, through the inventory’s own settle', async () => {
    // Arrange
    const { id } = await provisionRunning(pushed, 'push-killed');
    const before = (await pushed.instanceItem(id))!;

    // Act: kill the process; no sweep runs in this harness.
    await pushed.killMachine(before.machineId!);
    await waitForItem(pushed, id, (item) => item?.operation === 'recover' || item?.lastRecoveredAt !== undefined);

    // Assert
    const during = (await pushed.instanceItem(id))!;
    expect(during.lastStopError).toBeUndefined();
    await waitForItem(pushed, id, (item) => item?.status === 'running' && !item.claim);
    const after = (await pushed.instanceItem(id))!;
    expect(after.machineId).not.toBe(before.machineId);
    expect(after.lastRecoveredAt).toEqual(expect.any(String));
  });

  it('pushes nothing for a stop that was asked for', async () => {
    // Arrange
    const { id, token } = await provisionRunning(pushed, 'push-stopped');

    // Act
    const res = await pushed.request('POST', `/v1/instances/${id}/stop`, { token });
    await pushed.waitForExecution(res.body.operation.executionArn);

    // Assert: stopped by request, no recovery began.
    const item = (await pushed.instanceItem(id))!;
    expect(item).toMatchObject({ status: 'stopped' });
    expect(item.lastRecoveredAt).toBeUndefined();
    expect(item.claim).toBeUndefined();
  });
});

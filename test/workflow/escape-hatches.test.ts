/**
 * The operator's escape hatches do only what their names say, and each is audited in the transaction
 * that starts it: on the real ASL, handlers, DynamoDB Local and provider, through the HTTP API.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { claimInstance } from '../../lambdas/domain/claims';
import { leaseKey } from '../../lambdas/sweeps/lease';
import { RECONCILE, runReconcile } from '../../lambdas/sweeps/reconcile/sweep';
import { startHarness, type Harness } from '../support/harness';
import { provisionRunning } from '../support/instances';
import { gate } from '../support/sfn-helpers';

let h: Harness;
let admin: string;

beforeAll(async () => {
  h = await startHarness();
  admin = await h.token({ sub: 'ops', admin: true });
});
afterAll(async () => {
  await h.close();
});
beforeEach(() => h.provider.reset());

/** The audit records of an owner, newest first. */
async function auditOf(owner: string): Promise<Array<{ id: string; action: string; reason: string; outcome?: string[] }>> {
  return (await h.request('GET', `/v1/admin/owners/${owner}`, { token: admin })).body.audit;
}

describe('the escape hatches', () => {
  it('settles an instance once when eight identical settles arrive together, and writes one audit record with what it did', async () => {
    // Arrange: a stop claimed two minutes ago whose execution never started.
    const { id } = await provisionRunning(h, 'hatch-settle');
    await claimInstance(h.later(-120), id, ['user:hatch-settle'], 'stop');

    // Act
    const answers = await Promise.all(Array.from({ length: 8 }, () => h.request('POST', `/v1/admin/instances/${id}/settle`, { token: admin, body: { reason: 'stuck after host reboot' } })));

    // Assert
    expect(answers.map((a) => a.status)).toEqual(Array(8).fill(200));
    const records = (await auditOf('user:hatch-settle')).filter((r) => r.action === 'instance.settle');
    expect(records).toHaveLength(1);
    expect(new Set(answers.map((a) => a.body.audit.id))).toEqual(new Set([records[0]!.id]));
    expect(answers.filter((a) => a.body.actions.some((x: { action: string }) => x.action === 'released-claim'))).toHaveLength(1);
    expect(records[0]!.outcome).toContainEqual(expect.stringMatching(new RegExp(`^instance:${id}: released-claim`)));
    expect(await h.instanceItem(id)).toMatchObject({ status: 'running', lastStopError: { code: 'ExecutionLost' } });
  });

  it('audits a sweep run under the operator who ran it, with its reason, and writes nothing for a run the lease refused', async () => {
    // Arrange
    const sweeper = await h.token({ sub: 'hatch-sweeper', admin: true });

    // Act: one run; then one while another runtime holds the lease.
    const ran = await h.request('POST', '/v1/admin/sweeps/reconcile', { token: sweeper, body: { reason: 'checking after a deploy' } });
    await h.runtime.deps.db.send(
      new PutCommand({ TableName: h.runtime.deps.tableName, Item: { ...leaseKey(RECONCILE), type: 'lease', holder: 'elsewhere/boot/run', holderRuntime: 'elsewhere', holderBoot: 'boot', leaseUntil: new Date(Date.now() + 600_000).toISOString() } }),
    );
    const refused = await h.request('POST', '/v1/admin/sweeps/reconcile', { token: sweeper, body: { reason: 'once more' } });
    await h.runtime.deps.db.send(new PutCommand({ TableName: h.runtime.deps.tableName, Item: { ...leaseKey(RECONCILE), type: 'lease' } }));

    // Assert
    expect(ran.status).toBe(200);
    expect(refused.status).toBe(409);
    expect((await auditOf('user:hatch-sweeper')).map((r) => [r.action, r.reason])).toEqual([['sweep.run', 'checking after a deploy']]);
  });

  it('puts an instance back as it was when a forced recovery is lost with the stack: its old machine runs again', async () => {
    // Arrange: a forced recovery of a running instance held in ForkVolume (after it stopped the old machine).
    const { id } = await provisionRunning(h, 'hatch-lost-recovery');
    const before = (await h.instanceItem(id))!;
    const inFork = gate();
    h.provider.inner.forkVolume = async () => {
      await inFork.pass();
      throw new Error('unreachable');
    };
    const forced = await h.request('POST', `/v1/admin/instances/${id}/recover`, { token: admin, body: { reason: 'the disk went bad' } });
    await inFork.entered;

    // Act: the stack dies; the start-up settle; the start it asked for runs.
    await h.crashAndRestart();
    const startUp = await runReconcile(h.runtime.deps, { afterRestart: true });
    await h.runtime.stepFunctions.idle();

    // Assert
    expect(forced.status).toBe(202);
    expect(forced.headers.get('location')).toBe(`/v1/instances/${id}/operations/${forced.body.operation.executionName}`);
    expect(startUp.actions).toContainEqual(expect.objectContaining({ target: `instance:${id}`, action: 'recovery-failed', detail: expect.stringContaining('starting again') }));
    const after = (await h.instanceItem(id))!;
    expect(after).toMatchObject({ status: 'running', machineId: before.machineId, volumeId: before.volumeId, lastRecoveryError: { code: 'ExecutionLost' } });
    expect(after.claim).toBeUndefined();
    expect((await h.backend.getMachine(before.machineId!))?.state).toBe('started');
  });
});

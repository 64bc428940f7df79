/**
 * The reconcile sweep's lease cannot outlive its holder, and claims settle on evidence: on the real
 * ASL, handlers, DynamoDB Local and provider. A run that dies stops renewing its lease, which lapses
 * within a sweep period; a restarted runtime takes over its dead boot's lease at once; a held lease
 * is reported and counted; a lost claim is settled one sweep period after it was taken, whatever
 * the operation's timeout.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { claimInstance } from '../../lambdas/domain/claims';
import { leaseHolder, leaseKey } from '../../lambdas/sweeps/lease';
import { RECONCILE, runReconcile } from '../../lambdas/sweeps/reconcile/sweep';
import type { Deps } from '../../lambdas/composition/deps';
import type { RecordingMetrics } from '../../lambdas/shared/telemetry';
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

/** The sweep period the runtime runs with (the AWS schedule's, 60 s). */
const period = () => h.runtime.deps.settings.sweepPeriodSeconds;

/** Deps whose table calls after the first `n` never answer: the process died there. */
function dyingAfter(deps: Deps, n: number): Deps {
  let calls = 0;
  const db = new Proxy(deps.db, {
    get(target, prop, receiver) {
      if (prop !== 'send') return Reflect.get(target, prop, receiver) as unknown;
      return (...args: unknown[]) => (++calls > n ? new Promise(() => undefined) : (target.send as (...a: unknown[]) => unknown).apply(target, args));
    },
  });
  return { ...deps, db };
}

/** Leave a lease as a run of `runtime`'s boot `boot` would, had it died holding it until `until`. */
async function leaveLease(runtime: string, boot: string, until: Date): Promise<string> {
  const holder = `${runtime}/${boot}/dead-run`;
  await h.runtime.deps.db.send(
    new PutCommand({
      TableName: h.runtime.deps.tableName,
      Item: { ...leaseKey(RECONCILE), type: 'lease', holder, holderRuntime: runtime, holderBoot: boot, leaseUntil: until.toISOString(), lastRunAt: new Date().toISOString() },
    }),
  );
  return holder;
}

describe('the sweep lease', () => {
  it('lapses within one sweep period after its holder died mid-run, and the next run takes it', async () => {
    // Arrange: a run dies right after taking the lease (before its first settle); its heartbeat dies with it.
    void runReconcile(dyingAfter(h.runtime.deps, 1));
    for (let held = await leaseHolder(h.runtime.deps, RECONCILE); !held?.leaseUntil; held = await leaseHolder(h.runtime.deps, RECONCILE)) await new Promise((resolve) => setImmediate(resolve));
    const meanwhile = await runReconcile(h.runtime.deps);

    // Act: the schedule's next run, one period later.
    const next = await runReconcile(h.later(period()));

    // Assert
    expect(meanwhile).toMatchObject({ ran: false, heldBy: expect.stringContaining('/') });
    expect(next).toMatchObject({ ran: true, heldBy: null });
    expect((await leaseHolder(h.runtime.deps, RECONCILE))?.holder).toBeUndefined();
  });

  it('is taken over at once by the start-up settle of a restarted runtime, however long its dead boot took it for', async () => {
    // Arrange: a lease of this runtime's previous boot, taken for an hour (as an old 300 s lease would still block).
    const own = h.runtime.deps.runtimeIdentity!;
    const dead = await leaveLease(own.runtime, 'previous-boot', new Date(Date.now() + 3600_000));
    const metrics = h.runtime.deps.metrics as RecordingMetrics;
    const heldBefore = metrics.named('SweepLeaseHeld').length;

    // Act
    const scheduled = await runReconcile(h.runtime.deps);
    const startUp = await runReconcile(h.runtime.deps, { afterRestart: true });

    // Assert: the scheduled run said who held it, in its report and its metric; the start-up settle took over.
    expect(scheduled).toMatchObject({ ran: false, heldBy: dead });
    expect(metrics.named('SweepLeaseHeld').length).toBe(heldBefore + 1);
    expect(startUp).toMatchObject({ ran: true, tookOver: dead });
    expect((await leaseHolder(h.runtime.deps, RECONCILE))?.holder).toBeUndefined();
  });

  it('never makes the start-up settle wait on a lease another runtime holds: it settles beside it', async () => {
    // Arrange: a claim whose execution was lost, and a live lease of another runtime.
    const { id } = await provisionRunning(h, 'lease-foreign');
    await claimInstance(h.runtime.deps, id, ['user:lease-foreign'], 'stop');
    const foreign = await leaveLease('another-runtime', 'its-boot', new Date(Date.now() + 3600_000));

    // Act
    const startUp = await runReconcile(h.runtime.deps, { afterRestart: true });

    // Assert
    expect(startUp).toMatchObject({ ran: true, heldBy: foreign });
    expect(startUp.actions).toContainEqual(expect.objectContaining({ target: `instance:${id}`, action: 'released-claim' }));
    expect((await leaseHolder(h.runtime.deps, RECONCILE))?.holder).toBe(foreign);
    await leaveLease('another-runtime', 'its-boot', new Date(0));
  });

  it('is renewed by its heartbeat while a run lasts longer than the lease itself', async () => {
    // Arrange: a sweep period of 0.6 s (a 0.3 s lease, renewed every 0.1 s) and a run held in its orphan inventory.
    const fast: Deps = { ...h.runtime.deps, settings: { ...h.runtime.deps.settings, sweepPeriodSeconds: 0.6 } };
    const inInventory = gate();
    const original = h.provider.inner.inventory.bind(h.provider.inner);
    h.provider.inner.inventory = async (filter) => {
      await inInventory.pass();
      return original(filter);
    };
    const long = runReconcile(fast, { afterRestart: true });
    await inInventory.entered;
    const first = (await leaseHolder(fast, RECONCILE))!;
    // Three renewals later the lease has outlived its own 0.3 s three times over.
    const beats = new Set<string>([first.heartbeatAt!]);
    while (beats.size < 4) {
      beats.add((await leaseHolder(fast, RECONCILE))!.heartbeatAt!);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }

    // Act
    const second = await runReconcile(fast);
    h.provider.inner.inventory = original;
    inInventory.open();
    const done = await long;

    // Assert
    expect(second).toMatchObject({ ran: false, heldBy: first.holder });
    expect(done.ran).toBe(true);
    expect(Date.parse((await leaseHolder(fast, RECONCILE))!.lastRunAt!)).toBeGreaterThanOrEqual(Date.parse(done.startedAt));
  });
});

describe('claims settle on evidence', () => {
  it('settles a lost claim one sweep period after it was taken, not after the operation timeout', async () => {
    // Arrange: a stop claimed (its timeout 300 s) whose execution never started.
    const { id } = await provisionRunning(h, 'evidence-lost');
    await claimInstance(h.runtime.deps, id, ['user:evidence-lost'], 'stop');
    const timeout = h.runtime.deps.settings.claimTimeoutSeconds.stop;

    // Act: the run within the grace does not look; the run one period later (plus a second) does.
    const early = await runReconcile(h.later(period() / 2));
    const next = await runReconcile(h.later(period() + 1));

    // Assert
    expect(period() + 1).toBeLessThan(timeout);
    expect(early.actions.filter((a) => a.target === `instance:${id}`)).toEqual([]);
    expect(next.actions).toContainEqual(expect.objectContaining({ target: `instance:${id}`, action: 'released-claim' }));
    expect(next.describeCalls).toBeGreaterThanOrEqual(1);
    expect(await h.instanceItem(id)).toMatchObject({ status: 'running', lastStopError: { code: 'ExecutionLost' } });
  });

  it('looks again at a running claim after as long as it has run, at most its timeout, and settles it once it closed', async () => {
    // Arrange: a restart held in StartMachine (its execution runs).
    const { id, token } = await provisionRunning(h, 'evidence-running');
    const inStart = gate();
    const original = h.provider.inner.startMachine.bind(h.provider.inner);
    h.provider.inner.startMachine = async (machineId) => {
      await inStart.pass();
      return original(machineId);
    };
    const res = await operate(h, token, id, 'restart');
    await inStart.entered;

    // Act
    const look = await runReconcile(h.later(3 * period()));
    const scheduled = Date.parse(((await h.instanceItem(id)) as unknown as { attentionAt: string }).attentionAt);
    h.provider.inner.startMachine = original;
    inStart.open();
    await h.waitForExecution(res.body.operation.executionArn);

    // Assert: waiting; next look ≈ 3 periods on (its age then), before the 5-minute restart timeout would have it.
    expect(look.actions).toContainEqual(expect.objectContaining({ target: `instance:${id}`, action: 'waiting' }));
    expect(scheduled - Date.now()).toBeGreaterThan(5 * period() * 1000);
    expect(scheduled - Date.now()).toBeLessThanOrEqual((3 * period() + h.runtime.deps.settings.claimTimeoutSeconds.restart) * 1000);
    expect(await h.instanceItem(id)).toMatchObject({ status: 'running' });
  });
});

/**
 * Crash convergence: the whole local stack dies (as with `kill -9`) at a random point of
 * provisions and lifecycle operations — including after an admission and before its StartExecution —
 * at every provider call of an unexpected-stop recovery, and inside a sweep run (right after it took
 * its lease, between its settles, mid-inventory), then starts again on the same table and provider state. Within
 * two sweep periods nothing is left stuck: no claim held (no `recovering`), no reservation
 * unresolved, no destroy unfinished, every instance agrees with its provider and still has its
 * volume, quota equals the live instances, and the provider holds nothing no instance (or retained
 * volume) owns. A cancel whose request dies between its recorded request and its StopExecution converges the same way.
 */
import { StartExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { keys } from '../../lambdas/store/keys';
import { runReconcile } from '../../lambdas/sweeps/reconcile/sweep';
import { Tripwire, trippedClient, trippedProvider, violations } from '../support/convergence';
import { startHarness, testProviderKind, type Harness } from '../support/harness';
import { operate } from '../support/instances';
import { holdCalls } from '../support/sfn-helpers';

/** The reconcile schedule's period on AWS (and the local default). */
const SWEEP_PERIOD_SECONDS = 60;

/**
 * Seeds of the random crash points (each a full crash and restart). On the fake Fly (project
 * convergence-fly: read-after-create 404s, lagging lists, async detach, rate limits all on) a few of
 * them, to keep the suite's time modest; the local run covers all.
 */
const ALL_SEEDS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
const SEEDS = testProviderKind() === 'fly' ? ALL_SEEDS.filter((seed) => seed % 3 === 1) : ALL_SEEDS;

/** A small deterministic PRNG (mulberry32), so a failing seed replays exactly. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// A whole stack starts, dies and starts again in these tests: minutes, not Jest's default 5 s.
jest.setTimeout(120_000);

let h: Harness;
/** The tripwire of the current run; replaced by a harmless one once it fired. */
let wire = new Tripwire(Number.POSITIVE_INFINITY, () => undefined);

beforeAll(async () => {
  h = await startHarness({
    kind: testProviderKind(),
    secondProvider: true,
    wrap: (inner) => trippedProvider(inner, { pass: () => wire.pass() } as Tripwire),
    settings: { orphanGraceSeconds: 0, orphanScanSeconds: 0 },
  });
});
afterAll(async () => {
  await h.close();
});

/** Crash the whole stack at the k-th call the tripwire sees; resolves when it has. */
function armCrash(k: number): Promise<void> {
  return new Promise<void>((resolve) => {
    wire = new Tripwire(k, () => {
      void h.runtime.crash();
      resolve();
    });
  });
}

/** The restart as `npm start` makes it (everything in flight settled at once), then the two sweep periods that follow. */
async function restartAndSweepTwice(): Promise<void> {
  await h.crashAndRestart({ settleOnStart: true });
  await h.runtime.stepFunctions.idle();
  for (const period of [1, 2]) {
    await runReconcile(h.later(period * SWEEP_PERIOD_SECONDS));
    await h.runtime.stepFunctions.idle();
  }
}

/** Switch an instance to the provider it is not on. */
async function switchAway(token: string, id: string) {
  const item = await h.instanceItem(id);
  const to = item?.provider === h.west!.name ? h.provider.name : h.west!.name;
  return h.request('POST', `/v1/instances/${id}/switch-provider`, { token, body: { provider: to } });
}

/**
 * Crash points inside a sweep run: its k-th call (table, Step Functions or provider). Call 1 is the
 * lease and calls 2–17 the 16 shard queries, so 2 dies right after the lease was taken and before
 * the first settle; 20 and 28 die inside and between the settles of the lost executions.
 */
const SWEEP_CRASH_POINTS = [2, 20, 28];

describe.each(SWEEP_CRASH_POINTS)('a crash inside a sweep run (its call %i)', (k) => {
  it('converges within two sweep periods after the restart: the dead run\'s lease blocks nothing', async () => {
    // Arrange: a stop, a destroy and a switch accepted, then the stack dies with their executions
    // and restarts without its start-up settle, so all three are left to the sweep.
    const owners = ['stop', 'destroy', 'switch'].map((x) => `user:cv-sweep-${k}-${x}`);
    const tokens = await Promise.all(owners.map((owner) => h.token({ sub: owner.slice('user:'.length) })));
    const ids = await Promise.all(
      tokens.map(async (token, i) => {
        const res = await h.request('POST', '/v1/instances', { token, body: {}, headers: { 'idempotency-key': `cv-sweep-${k}-${i}` } });
        await h.waitForExecution(res.body.operation.executionArn);
        return res.body.instance.id as string;
      }),
    );
    await Promise.all([operate(h, tokens[0]!, ids[0]!, 'stop'), operate(h, tokens[1]!, ids[1]!, 'destroy'), switchAway(tokens[2]!, ids[2]!)]);
    await h.crashAndRestart();

    // Act: the schedule's next run dies at its k-th call; the stack restarts as `npm start` does,
    // then the two sweep periods that follow.
    const died = armCrash(k);
    const run = h.later(SWEEP_PERIOD_SECONDS);
    await Promise.race([runReconcile({ ...run, db: trippedClient(run.db, wire), sfn: trippedClient(run.sfn, wire) }), died]);
    const fired = wire.fired;
    wire = new Tripwire(Number.POSITIVE_INFINITY, () => undefined);
    await restartAndSweepTwice();

    // Assert
    expect(fired).toBe(true);
    expect(await violations(h, owners)).toEqual([]);
    expect((await h.instanceItem(ids[1]!))?.status).toBe('destroyed');
  });
});

describe.each(SEEDS)('a crash at a random point (seed %i)', (seed) => {
  it('converges within two sweep periods after the restart', async () => {
    // Arrange: three owners; the stack dies at the k-th provider call or StartExecution.
    const rnd = random(seed);
    const owners = ['a', 'b', 'c'].map((x) => `user:cv-${seed}-${x}`);
    const died = armCrash(1 + Math.floor(rnd() * 30));
    const sfn = h.runtime.deps.sfn;
    const send = sfn.send.bind(sfn);
    sfn.send = (async (command: unknown, ...rest: unknown[]) => {
      if (command instanceof StartExecutionCommand) await wire.pass();
      return (send as (...a: unknown[]) => unknown)(command, ...rest);
    }) as typeof sfn.send;

    // Act: provisions, then two rounds of random lifecycle operations, until the stack dies.
    const workload = (async () => {
      const tokens = await Promise.all(owners.map((owner) => h.token({ sub: owner.slice('user:'.length) })));
      const provisioned = await Promise.all(
        tokens.map((token, i) => h.request('POST', '/v1/instances', { token, body: {}, headers: { 'idempotency-key': `cv-${seed}-${i}-provision` } }).catch(() => null)),
      );
      await Promise.all(provisioned.map((res) => (res?.status === 202 ? h.waitForExecution(res.body.operation.executionArn).catch(() => null) : null)));
      for (let round = 0; round < 2; round++) {
        const ops = ['stop', 'start', 'restart', 'destroy', 'switch'] as const;
        const answers = await Promise.all(
          provisioned.map((res, i) => {
            if (res?.status !== 202) return null;
            const op = ops[Math.floor(rnd() * ops.length)]!;
            const id = res.body.instance.id as string;
            return (op === 'switch' ? switchAway(tokens[i]!, id) : operate(h, tokens[i]!, id, op)).catch(() => null);
          }),
        );
        await Promise.all(answers.map((res) => (res?.status === 202 ? h.waitForExecution(res.body.operation.executionArn).catch(() => null) : null)));
      }
    })();
    await Promise.race([workload, died]);
    wire = new Tripwire(Number.POSITIVE_INFINITY, () => undefined);

    await restartAndSweepTwice();

    // Assert
    expect(await violations(h, owners)).toEqual([]);
  });
});

/**
 * Crash points inside the fleet inventory: right after a listing answered (nothing acted on yet),
 * and at the first recovery's StartExecution (one candidate claimed, the other not yet looked at).
 */
const INVENTORY_CRASH_POINTS = ['after-listing', 'first-recovery-start'] as const;

describe.each(INVENTORY_CRASH_POINTS)('a crash mid-inventory (%s)', (point) => {
  it('converges within two sweep periods after the restart: both dead machines recovered (or shown stopped)', async () => {
    // Arrange: two running instances whose machines die behind slipway's back.
    const owners = ['a', 'b'].map((x) => `user:cv-inv-${point}-${x}`);
    const ids: string[] = [];
    for (const [i, owner] of owners.entries()) {
      const token = await h.token({ sub: owner.slice('user:'.length) });
      const res = await h.request('POST', '/v1/instances', { token, body: {}, headers: { 'idempotency-key': `cv-inv-${point}-${i}` } });
      await h.waitForExecution(res.body.operation.executionArn);
      ids.push(res.body.instance.id as string);
    }
    for (const id of ids) await h.killMachine((await h.instanceItem(id))!.machineId!);
    let crashed!: () => void;
    const died = new Promise<void>((resolve) => (crashed = resolve));
    const crash = () => {
      void h.runtime.crash();
      crashed();
      return new Promise<never>(() => undefined); // a dead host answers nothing
    };
    if (point === 'after-listing') {
      // Either listing: the plain inventory's, or the audit's when this run is one.
      const provider = h.provider;
      const list = provider.listNotRunning.bind(provider);
      const find = provider.findMachines.bind(provider);
      provider.listNotRunning = async (cursor) => (await list(cursor), crash());
      provider.findMachines = async (filter) => (await find(filter), crash());
    } else {
      const sfn = h.runtime.deps.sfn;
      const send = sfn.send.bind(sfn);
      sfn.send = (async (command: unknown, ...rest: unknown[]) => {
        if (command instanceof StartExecutionCommand) return crash();
        return (send as (...a: unknown[]) => unknown)(command, ...rest);
      }) as typeof sfn.send;
    }

    // Act: the sweep dies mid-inventory; the stack restarts without its start-up settle (so the
    // sweeps that follow, not the start-up audit, must finish it), then two sweep periods.
    await Promise.race([runReconcile(h.later(SWEEP_PERIOD_SECONDS)), died]);
    await h.crashAndRestart();
    for (const period of [1, 2]) {
      await runReconcile(h.later(period * SWEEP_PERIOD_SECONDS + 1));
      await h.runtime.stepFunctions.idle();
    }

    // Assert: no claim left, each instance runs on a live machine or is stopped with why.
    expect(await violations(h, owners)).toEqual([]);
    for (const id of ids) {
      const after = (await h.instanceItem(id))!;
      expect(['running', 'stopped']).toContain(after.status);
      if (after.status === 'stopped') expect(after.lastRecoveryError ?? after.lastStopError).toBeDefined();
    }
  });
});

/**
 * Crash points inside a recovery: the k-th provider call of its workflow. A recovery of a dead
 * machine makes 15 calls when it deletes the old volume and 13 when it retains it, so every call of
 * both paths is a crash point (even points up to 12 retain).
 */
const RECOVERY_CRASH_POINTS = Array.from({ length: 15 }, (_, i) => i + 1);

describe.each(RECOVERY_CRASH_POINTS)('a crash during a recovery (provider call %i after the death)', (k) => {
  it('converges within two sweep periods after the restart: recovered, or stopped on its old volume', async () => {
    // Arrange: a running instance (with a snapshot at even points up to 12, so its recovery retains the old volume).
    const owner = `user:cv-rec-${k}`;
    const token = await h.token({ sub: owner.slice('user:'.length) });
    const admin = await h.token({ sub: 'cv-ops', admin: true });
    const res = await h.request('POST', '/v1/instances', { token, body: {}, headers: { 'idempotency-key': `cv-rec-${k}` } });
    await h.waitForExecution(res.body.operation.executionArn);
    const id = res.body.instance.id as string;
    const before = (await h.instanceItem(id))!;
    if (k % 2 === 0 && k <= 12) await h.backend.createSnapshot(before.volumeId!);
    const died = armCrash(k);

    // Act: the machine dies and its recovery starts (forced, so that only its own calls are counted:
    // the sweep's drift check would also look at every other test's instance); the stack dies at the k-th call.
    await h.killMachine(before.machineId!);
    const workload = (async () => {
      const forced = await h.request('POST', `/v1/admin/instances/${id}/recover`, { token: admin, body: { reason: `crash point ${k}` } });
      if (forced.status === 202) await h.waitForExecution(forced.body.operation.executionArn);
    })();
    await Promise.race([workload, died]);
    const fired = wire.fired;
    wire = new Tripwire(Number.POSITIVE_INFINITY, () => undefined);
    await restartAndSweepTwice();

    // Assert
    expect(fired).toBe(true);
    expect(await violations(h, [owner])).toEqual([]);
    const after = (await h.instanceItem(id))!;
    expect(['running', 'stopped']).toContain(after.status);
    if (after.status === 'stopped') expect(after.lastRecoveryError ?? after.lastStopError).toBeDefined();
  });
});

/**
 * A cancel whose request dies after its fenced write recorded the cancel and before its
 * StopExecution: only the API process (the workflow runs on, held at its machine create), or the
 * whole stack. The sweep finds the claim with its cancel — still RUNNING, so it stops it, or lost
 * with the stack — and settles it `cancelled`; nothing is left on the provider.
 */
describe.each(['the API process', 'the whole stack'] as const)('a cancel that dies before its StopExecution (%s dies)', (what) => {
  it('converges within two sweep periods: the provision stopped and settled with code cancelled, its reservation released', async () => {
    // Arrange: a provision whose machine create hangs.
    const short = what === 'the API process' ? 'api' : 'stack';
    const owner = `user:cv-cancel-${short}`;
    const token = await h.token({ sub: owner.slice('user:'.length) });
    const parked = holdCalls(h.provider.inner, 'createMachine');
    const res = await h.request('POST', '/v1/instances', { token, body: {}, headers: { 'idempotency-key': `cv-cancel-${short}` } });
    expect(res.status).toBe(202);
    await parked.entered;

    const id = res.body.instance.id as string;
    const name = res.body.operation.executionName as string;
    // The request dies at its StopExecution: the cancel is recorded, the execution not stopped.
    let died!: () => void;
    const atStop = new Promise<void>((resolve) => (died = resolve));
    const sfn = h.runtime.deps.sfn;
    const send = sfn.send.bind(sfn);
    sfn.send = (async (command: unknown, ...rest: unknown[]) => {
      if (command instanceof StopExecutionCommand) {
        died();
        return new Promise<never>(() => undefined); // a dead process answers nothing
      }
      return (send as (...a: unknown[]) => unknown)(command, ...rest);
    }) as typeof sfn.send;

    // Act
    const cancel = h.request('DELETE', `/v1/instances/${id}/operations/${name}`, { token }).catch(() => null);
    await atStop;
    const recorded = await h.instanceItem(id);
    if (what === 'the API process') {
      await h.crashApi();
      sfn.send = send as typeof sfn.send;
      for (const period of [1, 2]) {
        await runReconcile(h.later(period * SWEEP_PERIOD_SECONDS + 1));
        await h.runtime.stepFunctions.idle();
      }
      // The create held since answers now; its step finds the claim gone.
      parked.open();
      await h.runtime.stepFunctions.idle();
    } else {
      void h.runtime.crash();
      await restartAndSweepTwice();
    }
    await cancel;

    // Assert
    expect(recorded).toMatchObject({ claim: name, cancelRequest: { executionName: name, requestedBy: owner } });
    expect(await violations(h, [owner])).toEqual([]);
    expect(await h.instanceItem(id)).toMatchObject({ status: 'failed', lastStartError: { code: 'cancelled' } });
    expect(await h.item(keys.reservation(owner))).toMatchObject({ status: 'released' });
  });
});

import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { settledInventory } from '../support/consistent';
import fc from 'fast-check';
import { executionArnOf } from '../../lambdas/adapters/workflows';
import type { LifecycleOperation } from '../../lambdas/domain/claims';
import { ProviderCapacityError } from '../../lambdas/shared/errors/provider';
import { startHarness, type Harness } from '../support/harness';
import { operate, operateAndWait, provisionRunning } from '../support/instances';
import { slowProvider } from '../support/slow-provider';

let h: Harness;
const delays: Record<string, number> = {};

beforeAll(async () => {
  h = await startHarness({ wrap: (p) => slowProvider(p, delays) });
});
afterAll(async () => {
  await h.close();
});
beforeEach(() => {
  h.provider.reset();
  for (const key of Object.keys(delays)) delete delays[key];
});

/** Poll the instance item as fast as DynamoDB Local answers, until stopped; returns every observation. */
function watch(id: string) {
  const seen: Array<{ status: string; claim: string | null }> = [];
  let running = true;
  const done = (async () => {
    while (running) {
      const item = await h.instanceItem(id);
      if (item) seen.push({ status: item.status, claim: item.claim ?? null });
      await new Promise((resolve) => setImmediate(resolve));
    }
  })();
  return {
    seen,
    stop: async () => {
      running = false;
      await done;
      return seen;
    },
  };
}

const EXPECTED_FINAL: Record<LifecycleOperation, string> = { start: 'running', stop: 'stopped', restart: 'running', destroy: 'destroyed' };

describe('lifecycle races', () => {
  it('lets exactly one of many concurrent callers hold the claim at a time; losers get 409 and cause nothing', async () => {
    // Arrange: 32 callers, each with a random (seeded) sequence of 3 operations.
    const { id, token } = await provisionRunning(h, 'race-32');
    const plans = fc.sample(fc.array(fc.constantFrom<LifecycleOperation>('start', 'stop', 'restart', 'destroy'), { minLength: 3, maxLength: 3 }), { numRuns: 32, seed: 4242 });
    delays.stopMachine = 20;
    delays.startMachine = 20;
    const watcher = watch(id);
    const callsBefore = h.provider.calls.length;

    // Act
    const answers = (
      await Promise.all(
        plans.map(async (plan) => {
          const out = [];
          for (const operation of plan) out.push({ operation, res: await operate(h, token, id, operation) });
          return out;
        }),
      )
    ).flat();
    await h.runtime.stepFunctions.idle();
    const seen = await watcher.stop();

    // Assert: every answer is a 202 or a 409 that says why.
    const winners = answers.filter((a) => a.res.status === 202);
    const losers = answers.filter((a) => a.res.status !== 202);
    expect(winners.length).toBeGreaterThan(0);
    for (const loser of losers) {
      expect(loser.res.status).toBe(409);
      expect(['instance_busy', 'invalid_state']).toContain(loser.res.body.code);
    }
    // One execution per winner, and no other: the operation log holds exactly the winners' claims.
    const item = (await h.instanceItem(id))!;
    const logged = item.operations!.filter((o) => o.kind !== 'provision').map((o) => o.executionName);
    expect(logged.sort()).toEqual(winners.map((w) => w.res.body.operation.executionName as string).sort());
    // At most one claim at any moment: once a claim is gone it never comes back.
    const claimsInOrder = seen.map((s) => s.claim).filter((c): c is string => c !== null);
    const blocks = claimsInOrder.filter((c, i) => i === 0 || claimsInOrder[i - 1] !== c);
    expect(new Set(blocks).size).toBe(blocks.length);
    // Provider calls happen only inside winners' executions.
    const intervals = await Promise.all(
      winners.map(async (w) => {
        const out = await h.runtime.deps.sfn.send(new DescribeExecutionCommand({ executionArn: w.res.body.operation.executionArn }));
        expect(out.status).toBe('SUCCEEDED');
        return [out.startDate!.getTime(), out.stopDate!.getTime()] as const;
      }),
    );
    for (const call of h.provider.calls.slice(callsBefore)) {
      const at = Date.parse(call.at);
      expect(intervals.some(([from, to]) => at >= from - 5 && at <= to + 5)).toBe(true);
    }
    // The final state is what the last winner did.
    const last = winners.map((w) => w.res.body.operation).sort((a, b) => Number(a.executionName.split('-v').pop()) - Number(b.executionName.split('-v').pop())).at(-1);
    expect(item.status).toBe(EXPECTED_FINAL[last.kind as LifecycleOperation]);
    expect(item.claim).toBeUndefined();
  });

  it('ends destroyed when a failing start races a destroy, and never shows stopped after destroying', async () => {
    // Arrange
    const { id, token } = await provisionRunning(h, 'race-start-destroy');
    await operateAndWait(h, token, id, 'stop');
    delays.startMachine = 50;
    h.provider.failAfter('startMachine', () => new ProviderCapacityError('start failed late'), { times: 1 });
    const watcher = watch(id);

    // Act: both at once; whoever loses retries the destroy until it is accepted.
    const [start, destroy] = await Promise.all([operate(h, token, id, 'start'), operate(h, token, id, 'destroy')]);
    let accepted = destroy.status === 202 ? destroy : null;
    if (start.status === 202) await h.waitForExecution(start.body.operation.executionArn);
    while (!accepted) {
      const retry = await operate(h, token, id, 'destroy');
      if (retry.status === 202) accepted = retry;
    }
    await h.waitForExecution(accepted.body.operation.executionArn);
    await h.runtime.stepFunctions.idle();
    const seen = await watcher.stop();

    // Assert
    expect((await h.instanceItem(id))?.status).toBe('destroyed');
    const firstDestroying = seen.findIndex((s) => s.status === 'destroying');
    expect(firstDestroying).toBeGreaterThanOrEqual(0);
    expect(seen.slice(firstDestroying).map((s) => s.status)).not.toContain('stopped');
    expect(await settledInventory(h.backend, { owner: 'user:race-start-destroy', instance: id })).toEqual({ machines: [], volumes: [] });
  });

  it('never shows stopped to a poller during a restart with a slow provider', async () => {
    // Arrange
    const { id, token } = await provisionRunning(h, 'race-restart-poll');
    delays.stopMachine = 150;
    delays.startMachine = 150;
    const statuses: string[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        statuses.push((await h.request('GET', `/v1/instances/${id}`, { token })).body.status);
        await new Promise((resolve) => setTimeout(resolve, 3));
      }
    })();

    // Act
    const closed = await operateAndWait(h, token, id, 'restart');
    polling = false;
    await poller;

    // Assert
    expect(closed.status).toBe('SUCCEEDED');
    expect(statuses).toContain('restarting');
    expect(new Set(statuses)).toEqual(new Set(['running', 'restarting']));
    expect((await h.request('GET', `/v1/instances/${id}`, { token })).body.status).toBe('running');
  });

  it('hands the claim back when the workflow cannot be started', async () => {
    const { id, token } = await provisionRunning(h, 'race-sfn-down');
    const real = h.runtime.deps.stateMachines.stop;
    h.runtime.deps.stateMachines.stop = real.replace('slipway-stop', 'slipway-missing');
    try {
      const res = await operate(h, token, id, 'stop');
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ code: 'workflow_unavailable' });
    } finally {
      h.runtime.deps.stateMachines.stop = real;
    }
    expect(await h.instanceItem(id)).toMatchObject({ status: 'running' });
    expect((await h.instanceItem(id))?.claim).toBeUndefined();
    expect(executionArnOf(real, 'x')).toContain(':execution:slipway-stop:x');
  });
});

/**
 * What the reconcile sweep costs, and how fast a killed execution is settled.
 *
 * Sweep cost: the table holds N instances on the attention index, 1 % of them due (running
 * instances whose drift check is due and whose machine is gone: each is marked stopped), the rest
 * due later. One sweep run is metered (ConsumedCapacity INDEXES) and its index reads counted, at two
 * table sizes, so the figures show the cost follows the due items, not the table.
 *
 * Claim looks: lost claims are settled on the evidence of one DescribeExecution each, one sweep period
 * after they were taken; a claim whose execution runs costs one look per doubling of its age.
 *
 * Listener latency: a provision is held in CreateVolume, its execution is stopped (StopExecution,
 * as a timeout or an operator's abort would end it), and the clock runs until the execution-closed
 * listener has settled the instance (claim released, instance failed, reservation released).
 */
import { StopExecutionCommand } from '@aws-sdk/client-sfn';
import { BatchWriteCommand, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../lambdas/store/keys';
import { attentionAt } from '../lambdas/domain/attention';
import type { InstanceItem } from '../lambdas/domain/instance';
import { leaseKey } from '../lambdas/sweeps/lease';
import { RECONCILE, runReconcile } from '../lambdas/sweeps/reconcile/sweep';
import { nextLookAt } from '../lambdas/sweeps/reconcile/settle';
import type { Deps } from '../lambdas/composition/deps';
import type { Operation } from '../lambdas/operations/registry';
import { recordCapacity } from './capacity';
import { summarize, type Summary } from './stats';
import type { BenchWorld } from './world';

/** One sweep run over a table of `instances`, `due` of them due. */
export interface SweepCost {
  instances: number;
  due: number;
  /** Items the attention index returned. */
  itemsRead: number;
  itemsReadPerDue: number;
  indexQueries: number;
  readUnits: number;
  writeUnits: number;
  wallMs: number;
  /** DescribeExecution calls of the run (none: running instances are checked by the provider, not Step Functions). */
  describeCalls: number;
  /** What the run did with the due items. */
  actions: Record<string, number>;
}

/** What settling claims on evidence costs: DescribeExecution calls per run, and per claim over its life. */
export interface ClaimLookCost {
  claims: number;
  /** The first run: every claim is due one period after it was taken, its execution looked up once. */
  firstRun: { due: number; describeCalls: number; settled: number; wallMs: number };
  /** The next run: the lost claims were settled, nothing is due, nothing is looked up. */
  secondRun: { due: number; describeCalls: number };
  /** Looks (one DescribeExecution each) a claim whose execution runs for its whole timeout costs, per operation. */
  looksOverTimeout: Record<string, { timeoutSeconds: number; looks: number }>;
}

/** The listener's figures. */
export interface ListenerLatency {
  samples: number;
  /** From StopExecution answered to the instance settled. */
  settled: Summary;
}

/** A running instance whose machine does not exist, due for its drift check at `due`. */
function instanceItem(prefix: string, i: number, due: Date): InstanceItem & Record<string, unknown> {
  const instanceId = `i-bench${prefix}${String(i).padStart(19, '0')}`;
  const at = new Date(0).toISOString();
  return {
    ...keys.instance(instanceId),
    ...keys.ownerIndex(`user:bench-sweep-${prefix}`, at, instanceId),
    ...attentionAt(keys.instance(instanceId).pk, due),
    type: 'instance',
    instanceId,
    owner: `user:bench-sweep-${prefix}`,
    name: instanceId,
    status: 'running',
    provider: 'local',
    region: 'local',
    size: 'shared-cpu-1x',
    image: 'slipway/hello:1',
    volumeSizeGb: 1,
    machineId: `m-gone-${i}`,
    volumeId: `v-gone-${i}`,
    version: 2,
    lastClaim: `${instanceId}-provision-v1`,
    countsTowardQuota: true,
    createdAt: at,
    updatedAt: at,
  };
}

/** Write items 25 at a time, retrying what DynamoDB leaves unprocessed (the drift bench seeds with it too). */
export async function writeAll(world: BenchWorld, items: Record<string, unknown>[]): Promise<void> {
  const { db, tableName } = world.runtime.deps;
  const batches: Record<string, unknown>[][] = [];
  for (let i = 0; i < items.length; i += 25) batches.push(items.slice(i, i + 25));
  const workers = Array.from({ length: 8 }, async () => {
    for (let batch = batches.shift(); batch; batch = batches.shift()) {
      let request: Record<string, Array<{ PutRequest: { Item: Record<string, unknown> } }>> | undefined = { [tableName]: batch.map((Item) => ({ PutRequest: { Item } })) };
      while (request && Object.keys(request).length > 0) {
        const out = await db.send(new BatchWriteCommand({ RequestItems: request }));
        request = out.UnprocessedItems as typeof request;
      }
    }
  });
  await Promise.all(workers);
}

/** Seed a table of `instances` with `dueFraction` of them due, then meter one sweep run. */
export async function sweepCost(world: BenchWorld, instances: number, dueFraction: number, prefix: string): Promise<SweepCost> {
  const now = Date.now();
  const due = Math.round(instances * dueFraction);
  const items = Array.from({ length: instances }, (_, i) => instanceItem(prefix, i, new Date(i < due ? now - 60_000 : now + 24 * 3600_000)));
  await writeAll(world, items);
  // The orphan inventory (every ORPHAN_SCAN_SECONDS, not every run) is left out: this meters the due-items path.
  await world.runtime.deps.db.send(
    new UpdateCommand({ TableName: world.runtime.deps.tableName, Key: leaseKey(RECONCILE), UpdateExpression: 'SET lastOrphanScanAt = :now', ExpressionAttributeValues: { ':now': new Date().toISOString() } }),
  );
  // Only the sweep's own calls are metered.
  const meter = recordCapacity(world.runtime.deps.db);
  meter.take();
  const started = performance.now();
  const report = await runReconcile(world.runtime.deps);
  const wallMs = performance.now() - started;
  const consumed = meter.take();
  const actions: Record<string, number> = {};
  for (const action of report.actions) actions[action.action] = (actions[action.action] ?? 0) + 1;
  return {
    instances,
    due: report.due,
    itemsRead: report.itemsRead,
    itemsReadPerDue: report.due ? report.itemsRead / report.due : Number.NaN,
    indexQueries: consumed.calls.QueryCommand ?? 0,
    readUnits: consumed.readUnits,
    writeUnits: consumed.writeUnits,
    wallMs,
    describeCalls: report.describeCalls,
    actions,
  };
}

/**
 * Seed `claims` stopped instances each claimed by a `start` whose execution never started (the API
 * died after the claim), taken two sweep periods ago; meter one run and the run after it. Then count,
 * with the sweep's own scheduling rule, the looks a claim costs while its execution runs for its
 * operation's whole timeout.
 */
export async function claimLookCost(world: BenchWorld, claims: number, prefix: string): Promise<ClaimLookCost> {
  const { deps } = world.runtime;
  const period = deps.settings.sweepPeriodSeconds;
  const takenAt = new Date(Date.now() - 2 * period * 1000);
  const items = Array.from({ length: claims }, (_, i) => {
    const base = instanceItem(`c${prefix}`, i, new Date(takenAt.getTime() + period * 1000));
    const claim = `${base.instanceId}-start-v3`;
    return { ...base, status: 'starting', version: 3, claim, operation: 'start', operations: [{ kind: 'start', executionName: claim, requestedAt: takenAt.toISOString() }] };
  });
  await writeAll(world, items);
  await deps.db.send(new UpdateCommand({ TableName: deps.tableName, Key: leaseKey(RECONCILE), UpdateExpression: 'SET lastOrphanScanAt = :now', ExpressionAttributeValues: { ':now': new Date().toISOString() } }));
  const started = performance.now();
  const first = await runReconcile(deps);
  const wallMs = performance.now() - started;
  const second = await runReconcile(deps);
  const looksOverTimeout: ClaimLookCost['looksOverTimeout'] = {};
  for (const [kind, timeoutSeconds] of Object.entries(deps.settings.claimTimeoutSeconds) as [Operation, number][]) {
    // The sweep's rule, on a clock that jumps from look to look.
    let clock = takenAt.getTime() + period * 1000;
    let looks = 0;
    const at: Deps = { ...deps, now: () => new Date(clock) };
    while (clock - takenAt.getTime() <= timeoutSeconds * 1000) {
      looks += 1;
      clock = nextLookAt(at, kind, takenAt.toISOString()).getTime();
    }
    looksOverTimeout[kind] = { timeoutSeconds, looks };
  }
  return {
    claims,
    firstRun: { due: first.due, describeCalls: first.describeCalls, settled: first.actions.filter((a) => a.action === 'released-claim').length, wallMs },
    secondRun: { due: second.due, describeCalls: second.describeCalls },
    looksOverTimeout,
  };
}

/** Kill held provision executions and time how long the listener takes to settle each. */
export async function listenerLatency(world: BenchWorld, samples: number): Promise<ListenerLatency> {
  const times: number[] = [];
  world.gate.close();
  try {
    for (let i = 0; i < samples; i++) {
      const token = await world.token(`bench-listener-${i}`);
      const res = await world.provision(token, `bench-listener-${i}-${Date.now()}`);
      if (res.status !== 202) throw new Error(`listener bench: provision answered ${res.status}`);
      const instanceId = res.body.instance.id as string;
      // Wait until the execution is parked in CreateVolume (the reservation says provider work started).
      for (;;) {
        const reservation = await world.runtime.deps.db.send(new GetCommand({ TableName: world.runtime.deps.tableName, Key: keys.reservation(`user:bench-listener-${i}`), ConsistentRead: true }));
        if (reservation.Item?.status === 'provider_work_started') break;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      const started = performance.now();
      await world.runtime.deps.sfn.send(new StopExecutionCommand({ executionArn: res.body.operation.executionArn, error: 'BenchKilled', cause: 'killed by the bench' }));
      for (;;) {
        const item = await world.runtime.deps.db.send(new GetCommand({ TableName: world.runtime.deps.tableName, Key: keys.instance(instanceId), ConsistentRead: true }));
        if (item.Item && !item.Item.claim && item.Item.status === 'failed') break;
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      times.push(performance.now() - started);
    }
  } finally {
    world.gate.open();
  }
  return { samples, settled: summarize(times) };
}

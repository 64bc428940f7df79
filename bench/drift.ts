/**
 * What drift detection costs per sweep (the fleet inventory, reconcile/inventory.ts), on the local
 * provider's records: N running instances in the table, each with a machine record on the local
 * provider, all of them naming one live process (a stand-in for N machine processes, which this
 * machine could not run), `dead` of them naming a process that is gone. The dead ones are inside
 * their recovery cooldown, so each is settled by one fenced write (marked stopped) rather than a
 * recovery workflow: the figures are the detection's, not the recovery's.
 *
 * Per sweep run: provider calls (listing pages, GETs by id), table items read, table writes (keys,
 * and write units with ConsumedCapacity), with none dead and with 1 % dead; and the hourly audit's
 * cost once.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../lambdas/store/keys';
import type { InstanceItem } from '../lambdas/domain/instance';
import { leaseKey } from '../lambdas/sweeps/lease';
import { RECONCILE, runReconcile } from '../lambdas/sweeps/reconcile/sweep';
import { LocalLayout } from '../lambdas/providers/local/layout';
import { isMachineProcess } from '../lambdas/providers/local/local-store';
import { bootToken } from '../lambdas/providers/local/processes';
import { LocalRecords, type MachineRecord } from '../lambdas/providers/local/records';
import { registryOf } from '../lambdas/providers/registry';
import type { Deps } from '../lambdas/composition/deps';
import { countingTable } from '../test/support/counting-table';
import { flyProviderFor, startFakeFly } from '../test/support/fake-fly';
import { recordCapacity } from './capacity';
import { writeAll } from './sweep';
import type { BenchWorld } from './world';

/** One metered sweep run. */
export interface DriftSweepCost {
  running: number;
  dead: number;
  audited: boolean;
  providerCalls: Record<string, number>;
  /** Provider calls per 1,000 machines of the fleet (= running instances when none is dead). */
  providerCallsPer1000Running: number;
  tableItemsRead: number;
  tableWrites: number;
  /** Writes of items other than the sweep's lease (which every run takes and gives back). */
  instanceWrites: number;
  writeUnits: number;
  readUnits: number;
  wallMs: number;
  actions: Record<string, number>;
}

/** What the drift scenario measured. */
export interface DriftFigures {
  running: number;
  seedMs: number;
  healthy: DriftSweepCost;
  onePercentDead: DriftSweepCost;
  /** The next run after the dead were settled: back to the healthy cost. */
  afterSettled: DriftSweepCost;
  audit: DriftSweepCost;
}

const LIVE_BOOT = 'benchlive';

function instanceItem(i: number, machineId: string, provider = 'local', prefix = 'benchdrift'): InstanceItem & Record<string, unknown> {
  const instanceId = `i-${prefix}${String(i).padStart(15, '0')}`;
  const at = new Date(0).toISOString();
  return {
    ...keys.instance(instanceId),
    ...keys.ownerIndex(`user:bench-drift-${i % 100}`, at, instanceId),
    type: 'instance',
    instanceId,
    owner: `user:bench-drift-${i % 100}`,
    name: instanceId,
    status: 'running',
    provider,
    region: 'local',
    size: 'shared-cpu-1x',
    image: 'slipway/hello:1',
    volumeSizeGb: 1,
    machineId,
    volumeId: `vol-benchdrift${i}`,
    endpoint: 'http://127.0.0.1:1',
    version: 2,
    lastClaim: `${instanceId}-provision-v1`,
    countsTowardQuota: true,
    // Inside the cooldown: a dead machine is marked stopped (one write), no recovery workflow runs.
    recoveryCooldownUntil: new Date(Date.now() + 24 * 3600_000).toISOString(),
    createdAt: at,
    updatedAt: at,
  };
}

function machineRecord(i: number, instanceId: string, pid: number, dead: boolean): MachineRecord {
  const id = `m-benchdrift${String(i).padStart(15, '0')}`;
  const at = new Date().toISOString();
  return {
    id,
    name: `${instanceId}-v1`,
    region: 'local',
    size: 'shared-cpu-1x',
    image: 'slipway/hello:1',
    state: 'started',
    mount: { volumeId: `vol-benchdrift${i}`, path: '/data' },
    tags: { owner: `user:bench-drift-${i % 100}`, instance: instanceId, reservation: `r-${i}` },
    env: {},
    pid: dead ? 2 ** 22 - 1 - i : pid,
    port: 1,
    bootId: dead ? `dead${i}` : LIVE_BOOT,
    lastExit: null,
    createdAt: at,
    updatedAt: at,
  };
}

/** Meter one sweep run: provider calls, table reads and writes. */
async function meteredSweep(world: BenchWorld, running: number, dead: number, options: { audit: boolean; deps?: Deps; providerCalls?: () => string[] }): Promise<DriftSweepCost> {
  const deps = options.deps ?? world.runtime.deps;
  // The audit runs when its period is over: mark it done now (or long ago) to choose which run this is.
  const auditAt = options.audit ? new Date(0) : new Date();
  await deps.db.send(
    new UpdateCommand({ TableName: deps.tableName, Key: leaseKey(RECONCILE), UpdateExpression: 'SET lastOrphanScanAt = :now, lastFleetAuditAt = :audit', ExpressionAttributeValues: { ':now': new Date().toISOString(), ':audit': auditAt.toISOString() } }),
  );
  const meter = recordCapacity(deps.db);
  meter.take();
  const table = countingTable(deps.db);
  world.faults.reset();
  const callsBefore = options.providerCalls?.().length ?? 0;
  const started = performance.now();
  const report = await runReconcile({ ...deps, db: table.db });
  const wallMs = performance.now() - started;
  const consumed = meter.take();
  const providerCalls: Record<string, number> = {};
  for (const method of options.providerCalls?.().slice(callsBefore) ?? world.faults.calls.map((call) => call.method)) providerCalls[method] = (providerCalls[method] ?? 0) + 1;
  const actions: Record<string, number> = {};
  for (const action of report.actions) actions[action.action] = (actions[action.action] ?? 0) + 1;
  const writes = table.writes();
  const calls = Object.values(providerCalls).reduce((sum, n) => sum + n, 0);
  if (report.errors.length) throw new Error(`drift sweep errors: ${JSON.stringify(report.errors.slice(0, 3))}`);
  return {
    running,
    dead,
    audited: report.inventory?.audited ?? false,
    providerCalls,
    providerCallsPer1000Running: (calls / running) * 1000,
    tableItemsRead: table.reads(),
    tableWrites: writes.length,
    instanceWrites: writes.filter((key) => !key.startsWith('SWEEP#')).length,
    writeUnits: consumed.writeUnits,
    readUnits: consumed.readUnits,
    wallMs,
    actions,
  };
}

/** Seed `running` instances and machine records, then meter the sweeps. */
export async function driftCost(world: BenchWorld, running: number, deadFraction: number): Promise<DriftFigures> {
  // One live process whose command line carries the boot token every healthy record names.
  const live = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)', '--', bootToken(LIVE_BOOT)], { stdio: 'ignore' });
  try {
    // Until it has exec'd, the child's command line is still this process's.
    await new Promise((resolve) => live.once('spawn', resolve));
    while (!(await isMachineProcess(live.pid!, bootToken(LIVE_BOOT)))) await new Promise((resolve) => setTimeout(resolve, 10));
    const seedStart = performance.now();
    const records = new LocalRecords(new LocalLayout(path.resolve(world.local.rootDir)));
    const items = Array.from({ length: running }, (_, i) => instanceItem(i, `m-benchdrift${String(i).padStart(15, '0')}`));
    await writeAll(world, items);
    const machines = items.map((item, i) => machineRecord(i, item.instanceId, live.pid!, false));
    for (let i = 0; i < machines.length; i += 500) await Promise.all(machines.slice(i, i + 500).map((record) => records.writeMachine(record)));
    const seedMs = performance.now() - seedStart;

    const healthy = await meteredSweep(world, running, 0, { audit: false });
    // 1 % of the machines die (their process gone).
    const dead = Math.round(running * deadFraction);
    const step = Math.floor(running / dead);
    const dying = Array.from({ length: dead }, (_, k) => k * step);
    await Promise.all(dying.map((i) => records.writeMachine(machineRecord(i, items[i]!.instanceId, live.pid!, true))));
    const onePercentDead = await meteredSweep(world, running, dead, { audit: false });
    // The fleet is still `running` machines (the dead ones' records stay, stopped); none dead any more.
    const afterSettled = await meteredSweep(world, running, 0, { audit: false });
    const audit = await meteredSweep(world, running, 0, { audit: true });
    return { running, seedMs, healthy, onePercentDead, afterSettled, audit };
  } finally {
    live.kill('SIGKILL');
  }
}

/** What the drift scenario measured on the fake Fly API. */
export interface FlyDriftFigures {
  running: number;
  seedMs: number;
  healthy: DriftSweepCost;
  onePercentDead: DriftSweepCost;
}

/**
 * The same on the Fly adapter against the fake Fly API (its rate limits, read-after-create and list
 * lag on): `running` machines seeded into the fake as long-started ones, their instances in the
 * table; provider calls are the HTTP requests the fake saw (by operation, 429s and retries included).
 * Fly's app listing has no cursor, so one listing is one request whatever the fleet.
 */
export async function driftCostFly(world: BenchWorld, running: number, deadFraction: number): Promise<FlyDriftFigures> {
  const fake = await startFakeFly();
  try {
    const fly = flyProviderFor(fake, 'fly');
    const deps: Deps = { ...world.runtime.deps, providers: registryOf([fly]) };
    const seedStart = performance.now();
    const ids = fake.seedStartedMachines(
      Array.from({ length: running }, (_, i) => {
        const instanceId = `i-benchfly${String(i).padStart(15, '0')}`;
        return { name: `${instanceId}-v1`, metadata: { slipway_instance: instanceId, slipway_owner: `user:bench-drift-${i % 100}`, slipway_reservation: `r-${i}` }, volumeId: `vol-benchdrift${i}` };
      }),
    );
    await writeAll(world, ids.map((machineId, i) => instanceItem(i, machineId, 'fly', 'benchfly')));
    const seedMs = performance.now() - seedStart;
    const calls = () => fake.calls.map((call) => call.operationId);
    const healthy = await meteredSweep(world, running, 0, { audit: false, deps, providerCalls: calls });
    const dead = Math.round(running * deadFraction);
    const step = Math.floor(running / dead);
    for (let k = 0; k < dead; k++) fake.crash(ids[k * step]!);
    const onePercentDead = await meteredSweep(world, running, dead, { audit: false, deps, providerCalls: calls });
    return { running, seedMs, healthy, onePercentDead };
  } finally {
    await fake.close();
  }
}

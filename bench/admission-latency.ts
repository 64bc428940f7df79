import { randomUUID } from 'node:crypto';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { BatchGetCommand, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../lambdas/store/keys';
import { admissionWritesFor, instanceIdFor } from '../lambdas/operations/provision/request';
import { executionName } from '../lambdas/domain/instance';
import { ProviderCapacityError } from '../lambdas/shared/errors/provider';
import { recordCapacity, unitsOf, type Units } from './capacity';
import { summarize, timed, type Summary } from './stats';
import type { BenchWorld } from './world';

/** Figures of the admission scenario. */
export interface AdmissionLatencyResult {
  samples: number;
  warmup: number;
  /** `POST /v1/instances` end to end, as configured by default (transaction first: no read when uncontended). */
  admission: Summary;
  /** The same requests reading before the transaction (`admissionReadsFirst`). */
  admissionReadsFirst: Summary;
  /** A bare TransactWriteItems of the very items admission writes (built by the same code). */
  transaction: Summary;
  /** A bare consistent BatchGetItem of the two items admission reads first. */
  read: Summary;
  /** A bare StartExecution of the admitted provision. */
  startExecution: Summary;
  /** Per sample: bare transaction + StartExecution, i.e. the default admission's own round trips. */
  ownRoundTrips: Summary;
  /** Per sample: bare read + transaction + StartExecution, i.e. a reading-first admission's own round trips. */
  ownRoundTripsReadsFirst: Summary;
  putItem: Summary;
  /** Admissions (warm-up included) that did not answer 202, by status. */
  admissionErrors: Record<string, number>;
  ratios: {
    admissionToTransactionP50: number;
    admissionToPutItemP50: number;
    transactionToPutItemP50: number;
    /** What the admission path adds to its own round trips (1.3 = 30 %). */
    admissionToOwnRoundTripsP50: number;
    admissionReadsFirstToOwnRoundTripsP50: number;
    admissionReadsFirstToTransactionP50: number;
  };
  /** Write units of one admission, as DynamoDB Local reports them (ReturnConsumedCapacity: INDEXES). */
  writeUnits: {
    /** The bare transaction's ConsumedCapacity (every sample reported the same: `distinct`). */
    transaction: Units & { distinct: number[] };
    /** The HTTP admission's own TransactWriteItems, recorded on the runtime's client while its workflow is held. */
    admissionRequest: Units & { readUnits: number; calls: Record<string, number> };
  };
}

/**
 * Admission against its own parts, sample by sample in rotating order so drift hits all alike:
 * (a) `POST /v1/instances` for a fresh owner as configured; (b) the same with
 * `admissionReadsFirst`; (c) the same work done bare with the SDK for another fresh owner — the
 * consistent read, the very transaction items admission builds (`admissionWritesFor`), then
 * StartExecution of that provision; (d) one bare conditional PutItem.
 * Every provider call fails fast (`createVolume` → ProviderCapacity), so each provision
 * compensates without a machine; executions are drained, untimed, after each sample.
 */
export async function admissionLatency(world: BenchWorld, options: { warmup: number; samples: number }): Promise<AdmissionLatencyResult> {
  const { runtime } = world;
  const deps = runtime.deps;
  world.faults.failNext('createVolume', () => new ProviderCapacityError('bench: admission phase'), { times: 1e9 });
  const total = options.warmup + options.samples;
  const tokens = await Promise.all(Array.from({ length: 2 * total }, (_, i) => world.token(`bench-adm-${i}`)));
  const series = { admission: [] as number[], readsFirst: [] as number[], transaction: [] as number[], read: [] as number[], start: [] as number[], own: [] as number[], ownReadsFirst: [] as number[], put: [] as number[] };
  const admissionErrors: Record<string, number> = {};
  const txUnits: Units[] = [];

  const admit = async (i: number, readsFirst = deps.settings.admissionReadsFirst) => {
    const configured = deps.settings.admissionReadsFirst;
    deps.settings.admissionReadsFirst = readsFirst;
    const { value, ms } = await timed(() => world.provision(tokens[i]!, `bench-adm-${i}-${randomUUID()}`)).finally(() => {
      deps.settings.admissionReadsFirst = configured;
    });
    await runtime.stepFunctions.idle();
    if (value.status !== 202) admissionErrors[value.status] = (admissionErrors[value.status] ?? 0) + 1;
    return ms;
  };
  const bare = async (i: number) => {
    const owner = `user:bench-bare-${i}`;
    const key = `bench-bare-${i}-${randomUUID()}`;
    const instanceId = instanceIdFor(owner, key);
    const items = admissionWritesFor(deps, owner, key, {});
    const read = await timed(() =>
      deps.db.send(new BatchGetCommand({ RequestItems: { [deps.tableName]: { Keys: [keys.instance(instanceId), keys.reservation(owner)], ConsistentRead: true } } })),
    );
    const tx = await timed(() => deps.db.send(new TransactWriteCommand({ TransactItems: items, ReturnConsumedCapacity: 'INDEXES' })));
    const put = (items[0]!.Put!.Item as Record<string, unknown>) ?? {};
    const input = { instanceId, owner, provider: put.provider, region: put.region, size: put.size, image: put.image, volumeSizeGb: put.volumeSizeGb, correlationId: randomUUID() };
    const name = executionName(instanceId, 'provision', 1);
    const start = await timed(() => deps.sfn.send(new StartExecutionCommand({ stateMachineArn: deps.stateMachines.provision, name, input: JSON.stringify(input) })));
    await runtime.stepFunctions.idle();
    return { read: read.ms, tx: tx.ms, start: start.ms, units: unitsOf('TransactWriteItemsCommand', tx.value.ConsumedCapacity) };
  };
  const putItem = async () => {
    const item = { pk: `BENCH#${randomUUID()}`, sk: 'BENCH', type: 'bench', at: new Date().toISOString() };
    return (await timed(() => deps.db.send(new PutCommand({ TableName: deps.tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' })))).ms;
  };

  const readsFirst = !deps.settings.admissionReadsFirst;
  for (let i = 0; i < total; i++) {
    // Rotate which goes first, so none always runs right after another.
    const order = [0, 1, 2, 3].map((k) => (k + i) % 4);
    let a = 0;
    let r = 0;
    let b: Awaited<ReturnType<typeof bare>> | undefined;
    let p = 0;
    for (const which of order) {
      if (which === 0) a = await admit(i);
      else if (which === 1) r = await admit(total + i, readsFirst);
      else if (which === 2) b = await bare(i);
      else p = await putItem();
    }
    if (i < options.warmup) continue;
    series.admission.push(a);
    series.readsFirst.push(r);
    series.put.push(p);
    series.transaction.push(b!.tx);
    series.read.push(b!.read);
    series.start.push(b!.start);
    series.own.push(b!.tx + b!.start);
    series.ownReadsFirst.push(b!.read + b!.tx + b!.start);
    txUnits.push(b!.units);
  }

  // The HTTP admission's own write units: its workflow is held at the gate, so no other transaction runs.
  const meter = recordCapacity(deps.db);
  world.gate.close();
  meter.take();
  const metered = await world.provision(await world.token('bench-adm-metered'), `bench-adm-metered-${randomUUID()}`);
  const tally = meter.take();
  world.gate.open();
  await runtime.stepFunctions.idle();
  if (metered.status !== 202) admissionErrors[metered.status] = (admissionErrors[metered.status] ?? 0) + 1;
  world.faults.reset();

  const s = {
    admission: summarize(series.admission),
    admissionReadsFirst: summarize(series.readsFirst),
    transaction: summarize(series.transaction),
    read: summarize(series.read),
    startExecution: summarize(series.start),
    ownRoundTrips: summarize(series.own),
    ownRoundTripsReadsFirst: summarize(series.ownReadsFirst),
    putItem: summarize(series.put),
  };
  const tx = tally.byCommand.TransactWriteItemsCommand ?? { writeUnits: 0, readUnits: 0, indexWriteUnits: 0 };
  return {
    samples: options.samples,
    warmup: options.warmup,
    ...s,
    admissionErrors,
    ratios: {
      admissionToTransactionP50: s.admission.p50 / s.transaction.p50,
      admissionToPutItemP50: s.admission.p50 / s.putItem.p50,
      transactionToPutItemP50: s.transaction.p50 / s.putItem.p50,
      admissionToOwnRoundTripsP50: s.admission.p50 / s.ownRoundTrips.p50,
      admissionReadsFirstToOwnRoundTripsP50: s.admissionReadsFirst.p50 / s.ownRoundTripsReadsFirst.p50,
      admissionReadsFirstToTransactionP50: s.admissionReadsFirst.p50 / s.transaction.p50,
    },
    writeUnits: {
      transaction: { ...txUnits[0]!, distinct: [...new Set(txUnits.map((u) => u.writeUnits))] },
      admissionRequest: { ...tx, readUnits: tally.byCommand.BatchGetItemCommand?.readUnits ?? 0, calls: tally.calls },
    },
  };
}

import { randomUUID } from 'node:crypto';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { ProviderCapacityError } from '../lambdas/shared/errors';
import { summarize, timed, type Summary } from './stats';
import type { BenchWorld } from './world';

/** Figures of scenario 1. */
export interface AdmissionLatencyResult {
  samples: number;
  warmup: number;
  admission: Summary;
  putItem: Summary;
  /** Admissions (warm-up included) that did not answer 202, by status. */
  admissionErrors: Record<string, number>;
  ratioP50: number;
  ratioP99: number;
}

/**
 * Admission (`POST /v1/instances`, fresh owner and key) against one bare conditional PutItem on
 * the same table and client, sample by sample in alternating order so drift hits both alike.
 * Every provider call fails fast (`createVolume` → ProviderCapacity), so each background
 * provision compensates without spawning a machine; it is drained, untimed, after each admission.
 */
export async function admissionLatency(world: BenchWorld, options: { warmup: number; samples: number }): Promise<AdmissionLatencyResult> {
  const { runtime } = world;
  world.faults.failNext('createVolume', () => new ProviderCapacityError('bench: admission phase'), { times: 1e9 });
  const total = options.warmup + options.samples;
  const tokens = await Promise.all(Array.from({ length: total }, (_, i) => world.token(`bench-adm-${i}`)));
  const admission: number[] = [];
  const putItem: number[] = [];
  const admissionErrors: Record<string, number> = {};

  const admit = async (i: number) => {
    const { value, ms } = await timed(() => world.provision(tokens[i]!, `bench-adm-${i}-${randomUUID()}`));
    await runtime.stepFunctions.idle();
    if (value.status !== 202) admissionErrors[value.status] = (admissionErrors[value.status] ?? 0) + 1;
    return ms;
  };
  const put = async () => {
    const item = { pk: `BENCH#${randomUUID()}`, sk: 'BENCH', type: 'bench', at: new Date().toISOString() };
    const { ms } = await timed(() => runtime.deps.db.send(new PutCommand({ TableName: runtime.deps.tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' })));
    return ms;
  };

  for (let i = 0; i < total; i++) {
    // Alternate which goes first, so neither always runs right after the other.
    let a: number;
    let p: number;
    if (i % 2 === 0) {
      a = await admit(i);
      p = await put();
    } else {
      p = await put();
      a = await admit(i);
    }
    if (i < options.warmup) continue;
    admission.push(a);
    putItem.push(p);
  }
  world.faults.reset();

  const a = summarize(admission);
  const p = summarize(putItem);
  return { samples: options.samples, warmup: options.warmup, admission: a, putItem: p, admissionErrors, ratioP50: a.p50 / p.p50, ratioP99: a.p99 / p.p99 };
}

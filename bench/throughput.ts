import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../lambdas/store/keys';
import { summarize, type Summary } from './stats';
import type { BenchWorld } from './world';

/** Figures of one end-to-end round. */
export interface ThroughputRound {
  concurrency: number;
  wallMs: number;
  /** Provisions that reached `running`, per second of wall time. */
  provisionsPerSecond: number;
  /** POST start → provision execution closed with the instance `running`. */
  toRunning: Summary;
  /** Non-202 answers, failed executions, or an instance not `running` afterwards. */
  failures: number;
  /** Why each failure failed. */
  errors: string[];
}

/** How one provision ended, and when its execution closed. */
type Outcome = { closedAt: number } & ({ ok: true; ms: number } | { ok: false; why: string });

/**
 * End-to-end provisions with the real `local` provider (each machine is a real process): one
 * fresh owner per provision, all started at once; a provision counts when its execution
 * succeeded and the instance item reads `running` (CommitProvision, the last state, writes it).
 */
export async function throughput(world: BenchWorld, options: { concurrency: number; round: number }): Promise<ThroughputRound> {
  const { runtime } = world;
  const tokens = await Promise.all(Array.from({ length: options.concurrency }, (_, i) => world.token(`bench-e2e-${options.round}-${i}`)));

  const one = async (i: number): Promise<Outcome> => {
    const start = performance.now();
    const res = await world.provision(tokens[i]!, `bench-e2e-${options.round}-${i}`);
    if (res.status !== 202) return { closedAt: performance.now(), ok: false, why: `POST answered ${res.status} ${res.body?.code ?? ''}` };
    const closed = await runtime.stepFunctions.waitForExecution(res.body.operation.executionArn);
    const closedAt = performance.now();
    if (closed.status !== 'SUCCEEDED') return { closedAt, ok: false, why: `execution ${closed.status}: ${closed.error ?? ''} ${closed.cause ?? ''}`.trim() };
    const item = await runtime.deps.db.send(new GetCommand({ TableName: runtime.deps.tableName, Key: keys.instance(res.body.instance.id), ConsistentRead: true }));
    if (item.Item?.status !== 'running') return { closedAt, ok: false, why: `instance is ${String(item.Item?.status)}` };
    return { closedAt, ok: true, ms: closedAt - start };
  };

  const roundStart = performance.now();
  const outcomes = await Promise.all(Array.from({ length: options.concurrency }, (_, i) => one(i)));
  // Wall time ends when the last execution closed, not after the verifying reads.
  const wallMs = Math.max(...outcomes.map((o) => o.closedAt)) - roundStart;
  const succeeded = outcomes.flatMap((o) => (o.ok ? [o.ms] : []));
  const errors = outcomes.flatMap((o) => (o.ok ? [] : [o.why]));
  return {
    concurrency: options.concurrency,
    wallMs,
    provisionsPerSecond: succeeded.length / (wallMs / 1000),
    toRunning: summarize(succeeded),
    failures: errors.length,
    errors,
  };
}

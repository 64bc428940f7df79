import { ProviderCapacityError } from '../lambdas/shared/errors';
import { summarize, timed, type Summary } from './stats';
import type { BenchWorld } from './world';

/** One round: `concurrency` POSTs for one fresh owner, all at once. */
export interface ContentionRound {
  wallMs: number;
  admitted: number;
  refused: number;
  /** Anything but 202 and 409, by status. */
  other: Record<string, number>;
  maxMs: number;
}

/** Figures of scenario 2. */
export interface ContentionResult {
  concurrency: number;
  rounds: ContentionRound[];
  /** Latency of the 409 answers over all rounds. */
  refusedLatency: Summary;
  /** Latency of every request over all rounds. */
  allLatency: Summary;
}

/**
 * Same-owner contention: each round sends `concurrency` provisions with distinct keys for one
 * fresh owner. The gate holds the winner's provision before its first provider call until the
 * round is over, so its reservation stays unresolved as a real (seconds-long) provision's would;
 * then the provision fails fast and compensates, without a machine.
 */
export async function contention(world: BenchWorld, options: { rounds: number; concurrency: number }): Promise<ContentionResult> {
  world.faults.failNext('createVolume', () => new ProviderCapacityError('bench: contention phase'), { times: 1e9 });
  const rounds: ContentionRound[] = [];
  const refused: number[] = [];
  const all: number[] = [];
  for (let round = 0; round < options.rounds; round++) {
    const token = await world.token(`bench-race-${round}`);
    world.gate.close();
    const { value: answers, ms: wallMs } = await timed(() =>
      Promise.all(Array.from({ length: options.concurrency }, (_, i) => timed(() => world.provision(token, `bench-race-${round}-${i}`)))),
    );
    world.gate.open();
    await world.runtime.stepFunctions.idle();

    const other: Record<string, number> = {};
    for (const { value, ms } of answers) {
      all.push(ms);
      if (value.status === 409) refused.push(ms);
      else if (value.status !== 202) other[value.status] = (other[value.status] ?? 0) + 1;
    }
    rounds.push({
      wallMs,
      admitted: answers.filter((a) => a.value.status === 202).length,
      refused: answers.filter((a) => a.value.status === 409).length,
      other,
      maxMs: Math.max(...answers.map((a) => a.ms)),
    });
  }
  world.faults.reset();
  return { concurrency: options.concurrency, rounds, refusedLatency: summarize(refused), allLatency: summarize(all) };
}

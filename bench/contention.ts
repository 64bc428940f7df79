import { fork } from 'node:child_process';
import path from 'node:path';
import { ProviderCapacityError } from '../lambdas/shared/errors/provider';
import type { BurstAnswer, BurstRequest } from './burst-client';
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
  /** Whether every admission read before its transaction, or only those that waited for a turn (the default). */
  readsFirst: boolean;
  rounds: ContentionRound[];
  /** Latency of the 409 answers over all rounds. */
  refusedLatency: Summary;
  /** Latency of every request over all rounds. */
  allLatency: Summary;
}

/**
 * Same-owner contention: each round sends `concurrency` provisions with distinct keys for one
 * fresh owner, all at once, from a client process of its own (bench/burst-client.ts; its
 * connections are opened by one untimed burst first and kept alive). The gate holds the winner's
 * provision before its first provider call until the round is over, so its reservation stays
 * unresolved as a real (seconds-long) provision's would; then the provision fails fast and
 * compensates, without a machine.
 */
export async function contention(world: BenchWorld, options: { rounds: number; concurrency: number; readsFirst: boolean }): Promise<ContentionResult> {
  world.faults.failNext('createVolume', () => new ProviderCapacityError('bench: contention phase'), { times: 1e9 });
  const settings = world.runtime.deps.settings;
  const before = settings.admissionReadsFirst;
  settings.admissionReadsFirst = options.readsFirst;
  const tag = options.readsFirst ? 'reads' : 'tx';
  const client = fork(path.join(__dirname, 'burst-client.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const burst = (token: string, keys: string[]) =>
    new Promise<BurstAnswer[]>((resolve, reject) => {
      client.once('message', (answers: BurstAnswer[]) => resolve(answers));
      client.once('error', reject);
      client.send({ url: world.api.url, token, keys, body: '{}' } satisfies BurstRequest);
    });
  const keysOf = (round: number | string) => Array.from({ length: options.concurrency }, (_, i) => `bench-race-${tag}-${round}-${i}`);
  const rounds: ContentionRound[] = [];
  const refused: number[] = [];
  const all: number[] = [];
  try {
    // Open the client's connections (untimed), as a client that has talked to the API before.
    world.gate.close();
    await burst(await world.token(`bench-race-${tag}-warmup`), keysOf('warmup'));
    world.gate.open();
    await world.runtime.stepFunctions.idle();

    for (let round = 0; round < options.rounds; round++) {
      const token = await world.token(`bench-race-${tag}-${round}`);
      world.gate.close();
      const { value: answers, ms: wallMs } = await timed(() => burst(token, keysOf(round)));
      world.gate.open();
      await world.runtime.stepFunctions.idle();

      const other: Record<string, number> = {};
      for (const { status, ms } of answers) {
        all.push(ms);
        if (status === 409) refused.push(ms);
        else if (status !== 202) other[status] = (other[status] ?? 0) + 1;
      }
      rounds.push({
        wallMs,
        admitted: answers.filter((a) => a.status === 202).length,
        refused: answers.filter((a) => a.status === 409).length,
        other,
        maxMs: Math.max(...answers.map((a) => a.ms)),
      });
    }
  } finally {
    client.send('exit');
    world.faults.reset();
    settings.admissionReadsFirst = before;
  }
  return { concurrency: options.concurrency, readsFirst: options.readsFirst, rounds, refusedLatency: summarize(refused), allLatency: summarize(all) };
}

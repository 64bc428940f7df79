/** The one backoff, jitter and retry loop every in-process retry and every sweep's next-try time use. */
import { backoff, jitter, retry } from '../../lambdas/shared/retry';

describe('backoff', () => {
  it('doubles from its base per step and stops at its cap', () => {
    expect([0, 1, 2, 3, 6, 7].map((step) => backoff(step, { base: 60, cap: 3600 }))).toEqual([60, 120, 240, 480, 3600, 3600]);
  });

  it('counts a negative step as the first', () => {
    expect(backoff(-1, { base: 900 })).toBe(900);
  });
});

describe('jitter', () => {
  it('picks whole milliseconds from the floor up to, not including, the ceiling', () => {
    const picks = Array.from({ length: 2000 }, () => jitter(4, 1));

    expect(new Set(picks)).toEqual(new Set([1, 2, 3]));
  });
});

describe('retry', () => {
  const transient = new Error('transient');
  const fatal = new Error('fatal');
  const options = { attempts: 3, retryable: (error: unknown) => error === transient, delayMs: () => 0 };

  it('runs the attempt again after a retryable failure and answers what it returns', async () => {
    const seen: number[] = [];

    const answer = await retry(async (attempt) => {
      seen.push(attempt);
      if (attempt < 3) throw transient;
      return 'done';
    }, options);

    expect([answer, seen]).toEqual(['done', [1, 2, 3]]);
  });

  it('throws a failure it may not retry at once', async () => {
    let tries = 0;

    await expect(retry(async () => ((tries += 1), Promise.reject(fatal)), options)).rejects.toBe(fatal);
    expect(tries).toBe(1);
  });

  it('throws what `exhausted` makes of the last failure once the attempts are spent', async () => {
    let tries = 0;

    await expect(retry(async () => ((tries += 1), Promise.reject(transient)), { ...options, exhausted: (error, attempts) => new Error(`gave up after ${attempts}: ${(error as Error).message}`) })).rejects.toThrow('gave up after 3: transient');
    expect(tries).toBe(3);
  });
});

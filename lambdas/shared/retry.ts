/**
 * Retrying, said once: one exponential backoff (the sweeps' next-try times and every in-process
 * wait are steps of it), one jittered wait, and one loop that runs an attempt again while its
 * failure is one worth retrying. Jitter spreads callers that collided so they do not collide again
 * in lockstep (AWS Architecture Blog, "Exponential Backoff And Jitter").
 */
import { randomInt } from 'node:crypto';

/** `base` × 2^`step` (step 0 is `base`; a negative step counts as 0), at most `cap`. */
export function backoff(step: number, options: { base: number; cap?: number }): number {
  return Math.min(options.base * 2 ** Math.max(0, step), options.cap ?? Number.POSITIVE_INFINITY);
}

/** A random whole number of milliseconds in [`floor`, `ceiling`): full jitter over a backoff step. */
export function jitter(ceiling: number, floor = 0): number {
  return randomInt(floor, Math.max(floor + 1, ceiling));
}

/** Wait `ms` milliseconds. */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** How `retry` goes on: at most `attempts` tries, again only after a failure `retryable` accepts, `delayMs(attempt)` apart. */
export interface RetryOptions {
  attempts: number;
  retryable(error: unknown): boolean;
  /** The wait after the `attempt`-th failed try (1-based). */
  delayMs(attempt: number): number;
  /** What to throw once the tries are spent on retryable failures (default: the last failure). */
  exhausted?(error: unknown, attempts: number): unknown;
}

/** Run `attempt` (given its 1-based number) until it returns, retrying the failures `retryable` accepts. */
export async function retry<T>(attempt: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  for (let tried = 1; ; tried++) {
    try {
      return await attempt(tried);
    } catch (error) {
      if (!options.retryable(error)) throw error;
      if (tried >= options.attempts) throw options.exhausted ? options.exhausted(error, tried) : error;
      await pause(options.delayMs(tried));
    }
  }
}

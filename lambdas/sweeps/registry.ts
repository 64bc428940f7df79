/**
 * The sweeps, listed once. Everything else that names a sweep is derived from this list: the CDK
 * schedules, alarms and functions (`infra/orchestration-stack.ts`, `infra/function-catalog.ts`),
 * the local runtime's timers, the name enum of `POST /v1/admin/sweeps/{name}` and its dispatch
 * (`operator.ts`), and the console's "run now" hatches. A sweep's key must be its spec's name.
 */
import type { SweepSpec } from './spec';
import { reconcileSweep } from './reconcile/spec';
import { volumeCleanupSweep } from './volume-cleanup/spec';

/** A registry of sweeps: keys are the sweeps' names, so a spec filed under another name is a compile error. */
export const sweepRegistry = <T extends { [N in keyof T & string]: SweepSpec<N> }>(sweeps: T): T => sweeps;

/** Every sweep by name. */
export const SWEEPS = sweepRegistry({
  reconcile: reconcileSweep,
  'volume-cleanup': volumeCleanupSweep,
});

/** A sweep's name. */
export type SweepName = keyof typeof SWEEPS & string;

/** Every sweep, in the registry's order. */
export const SWEEP_LIST: readonly SweepSpec<SweepName>[] = Object.values(SWEEPS);

/** The sweeps' names (an operator may run each by name). */
export const SWEEP_NAMES = SWEEP_LIST.map((sweep) => sweep.name) as [SweepName, ...SweepName[]];

import { tombstoneInstance } from '../tombstone';
import { defineStep } from '../../define-step';
import { fencedStepInput } from '../../step-schemas';

/** Tombstone the instance, free its quota slot, release a reservation that points at it. */
export const step = defineStep('TombstoneInstance', fencedStepInput, async (deps, input) => {
  await tombstoneInstance(deps, input);
  return { status: 'destroyed' as const };
});

export const { handler, createHandler } = step;

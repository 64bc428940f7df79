import { tombstoneInstance } from '../tombstone';
import { defineStep, TABLE_ONLY } from '../../define-step';
import { fencedStepInput } from '../../step-schemas';

/** Tombstone the instance, free its quota slot, release a reservation that points at it. */
export const TombstoneInstance = defineStep({
  name: 'TombstoneInstance',
  description: 'Tombstone the instance, free quota, release its reservation',
  file: __filename,
  input: fencedStepInput,
  run: async (deps, input) => {
    await tombstoneInstance(deps, input);
    return { status: 'destroyed' as const };
  },
  permissions: TABLE_ONLY,
});

export const { handler, createHandler } = TombstoneInstance;

import { failProvision } from '../outcome';
import { defineStep, TABLE_ONLY } from '../../define-step';
import { failureRecord, fencedStepInput, stepFailureSchema } from '../../step-schemas';

const input = fencedStepInput.extend({ failure: stepFailureSchema });

/** Cleanup verified: instance `failed` with lastStartError, reservation released, quota returned. */
export const FailProvision = defineStep({
  name: 'FailProvision',
  description: 'Mark the instance failed and release the reservation',
  file: __filename,
  input,
  run: async (deps, input) => {
    await failProvision(deps, { ...input, error: failureRecord(input.failure) });
    return { status: 'failed' as const, reservation: 'released' as const };
  },
  permissions: TABLE_ONLY,
});

export const { handler, createHandler } = FailProvision;

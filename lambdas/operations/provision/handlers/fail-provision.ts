import { failProvision } from '../outcome';
import { defineStep } from '../../define-step';
import { failureRecord, fencedStepInput, stepFailureSchema } from '../../step-schemas';

const input = fencedStepInput.extend({ failure: stepFailureSchema });

/** Cleanup verified: instance `failed` with lastStartError, reservation released, quota returned. */
export const step = defineStep('FailProvision', input, async (deps, input) => {
  await failProvision(deps, { ...input, error: failureRecord(input.failure) });
  return { status: 'failed' as const, reservation: 'released' as const };
});

export const { handler, createHandler } = step;

import { markNeedsReconciliation } from '../outcome';
import { defineStep } from '../../define-step';
import { failureMessage, fencedStepInput, stepFailureSchema } from '../../step-schemas';

const input = fencedStepInput.extend({ failure: stepFailureSchema, cleanupFailure: stepFailureSchema });

/** Cleanup unverified: the reservation goes to `needs_reconciliation` for the sweep; the instance shows both errors. */
export const step = defineStep('MarkNeedsReconciliation', input, async (deps, input) => {
  const message = `${failureMessage(input.failure)} (cleanup pending reconciliation: ${failureMessage(input.cleanupFailure)})`;
  await markNeedsReconciliation(deps, { ...input, error: { message, code: input.failure.Error } });
  return { reservation: 'needs_reconciliation' as const };
});

export const { handler, createHandler } = step;

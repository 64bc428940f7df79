import { markNeedsReconciliation } from '../outcome';
import { defineStep, TABLE_ONLY } from '../../define-step';
import { failureMessage, fencedStepInput, stepFailureSchema } from '../../step-schemas';

const input = fencedStepInput.extend({ failure: stepFailureSchema, cleanupFailure: stepFailureSchema });

/** Cleanup unverified: the reservation goes to `needs_reconciliation` for the sweep; the instance shows both errors. */
export const MarkNeedsReconciliation = defineStep({
  name: 'MarkNeedsReconciliation',
  description: 'Hand an unverified cleanup to the reconcile sweep',
  file: __filename,
  input,
  run: async (deps, input) => {
    const message = `${failureMessage(input.failure)} (cleanup pending reconciliation: ${failureMessage(input.cleanupFailure)})`;
    await markNeedsReconciliation(deps, { ...input, error: { message, code: input.failure.Error } });
    return { reservation: 'needs_reconciliation' as const };
  },
  permissions: TABLE_ONLY,
});

export const { handler, createHandler } = MarkNeedsReconciliation;

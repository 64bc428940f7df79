import * as z from 'zod';
import { recordOperationFailure } from '../outcome';
import { providersFromConfig } from '../../../providers/configured';
import { defineStep } from '../../define-step';
import { failureRecord, providerStepInput, stepFailureSchema } from '../../step-schemas';
import { LIFECYCLE_OPERATIONS } from '../../registry';

const input = providerStepInput.extend({
  operation: z.enum(LIFECYCLE_OPERATIONS),
  failure: stepFailureSchema,
});

/**
 * Catch target of every lifecycle workflow: make the failure visible at once, in the step that
 * catches it, fenced by the claim — so it can never overwrite another operation's state.
 */
export const RecordOperationFailure = defineStep({
  name: 'RecordOperationFailure',
  description: 'Show the real state and the error, release the claim (fenced)',
  file: __filename,
  input,
  run: (deps, input) => recordOperationFailure(deps, { ...input, error: failureRecord(input.failure) }),
  timeoutSeconds: 60,
  providers: providersFromConfig,
});

export const { handler, createHandler } = RecordOperationFailure;

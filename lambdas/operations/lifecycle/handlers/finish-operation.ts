import * as z from 'zod';
import { finishOperation } from '../outcome';
import { defineStep, TABLE_ONLY } from '../../define-step';
import { fencedStepInput } from '../../step-schemas';
import { FINISHED_OPERATIONS } from '../../registry';

const input = fencedStepInput.extend({
  operation: z.enum(FINISHED_OPERATIONS),
  endpoint: z.string().nullable().optional(),
});

/** Release the claim with the operation's outcome, fenced by the claim. */
export const FinishOperation = defineStep({
  name: 'FinishOperation',
  description: 'Release the claim with the operation outcome (fenced)',
  file: __filename,
  input,
  run: finishOperation,
  permissions: TABLE_ONLY,
});

export const { handler, createHandler } = FinishOperation;

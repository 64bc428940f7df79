import * as z from 'zod';
import { finishOperation } from '../outcome';
import { defineStep } from '../../define-step';
import { fencedStepInput } from '../../step-schemas';

const input = fencedStepInput.extend({
  operation: z.enum(['start', 'stop', 'restart']),
  endpoint: z.string().nullable().optional(),
});

/** Release the claim with the operation's outcome, fenced by the claim. */
export const step = defineStep('FinishOperation', input, finishOperation);

export const { handler, createHandler } = step;

import * as z from 'zod';
import { finishOperation } from '../domain/operation-outcome';
import { defineStep } from './define-step';
import { fencedStepInput } from './schemas';

const input = fencedStepInput.extend({
  operation: z.enum(['start', 'stop', 'restart']),
  endpoint: z.string().nullable().optional(),
});

/** Release the claim with the operation's outcome, fenced by the claim. */
export const step = defineStep('FinishOperation', input, finishOperation);

export const { handler, createHandler } = step;

import * as z from 'zod';
import { commitProvision } from '../outcome';
import { defineStep } from '../../define-step';
import { fencedStepInput } from '../../step-schemas';

const input = fencedStepInput.extend({
  reservationVersion: z.number().int().positive(),
  volumeId: z.string(),
  machineId: z.string(),
  endpoint: z.string().nullable(),
});

/** Instance running (fenced by the claim) and reservation completed (fenced by its version), in one transaction. */
export const step = defineStep('CommitProvision', input, async (deps, input) => {
  await commitProvision(deps, input);
  return { status: 'running' as const };
});

export const { handler, createHandler } = step;

import * as z from 'zod';
import { commitProvision } from '../outcome';
import { defineStep, TABLE_ONLY } from '../../define-step';
import { fencedStepInput } from '../../step-schemas';

const input = fencedStepInput.extend({
  reservationVersion: z.number().int().positive(),
  volumeId: z.string(),
  machineId: z.string(),
  endpoint: z.string().nullable(),
});

/** Instance running (fenced by the claim) and reservation completed (fenced by its version), in one transaction. */
export const CommitProvision = defineStep({
  name: 'CommitProvision',
  description: 'Mark the instance running and complete the reservation',
  file: __filename,
  input,
  run: async (deps, input) => {
    await commitProvision(deps, input);
    return { status: 'running' as const };
  },
  permissions: TABLE_ONLY,
});

export const { handler, createHandler } = CommitProvision;

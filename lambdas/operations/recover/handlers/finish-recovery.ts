import * as z from 'zod';
import { finishRecovery } from '../steps';
import { defineStep } from '../../define-step';
import { providerStepInput } from '../../step-schemas';

/** What RetireOldResources answered, or the error its Catch kept. */
const input = providerStepInput.extend({ retired: z.record(z.string(), z.unknown()) });

/** Release the recovery's claim as `running`, with the cooldown; the lifecycle event says it succeeded. */
export const FinishRecovery = defineStep({
  name: 'FinishRecovery',
  description: 'Release the recovery claim as running, with the cooldown',
  file: __filename,
  input,
  run: finishRecovery,
  permissions: { table: ['GetItem', 'UpdateItem'], publishesEvents: true },
});

export const { handler, createHandler } = FinishRecovery;

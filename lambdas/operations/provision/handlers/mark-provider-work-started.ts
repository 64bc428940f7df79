import { markProviderWorkStarted } from '../../../domain/reservation';
import { defineStep } from '../../define-step';
import { fencedStepInput } from '../../step-schemas';

/** Fence the owner's reservation to this provision (`provider_work_started`); returns its version. */
export const MarkProviderWorkStarted = defineStep({
  name: 'MarkProviderWorkStarted',
  description: 'Move the reservation to provider_work_started (fenced)',
  file: __filename,
  input: fencedStepInput,
  run: markProviderWorkStarted,
  permissions: { table: ['UpdateItem'] },
});

export const { handler, createHandler } = MarkProviderWorkStarted;

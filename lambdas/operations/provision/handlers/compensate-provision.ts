import { compensateProvision } from '../steps';
import { providersFromConfig } from '../../../providers/configured';
import { defineStep } from '../../define-step';
import { providerStepInput } from '../../step-schemas';

/** Destroy everything a failed provision made (found by tags) and verify it is gone; armed only while the claim is ours. */
export const step = defineStep('CompensateProvision', providerStepInput, compensateProvision, { providers: providersFromConfig });

export const { handler, createHandler } = step;

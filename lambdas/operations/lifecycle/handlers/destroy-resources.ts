import { destroyResources } from '../../machine/steps';
import { providersFromConfig } from '../../../providers/configured';
import { defineStep } from '../../define-step';
import { providerStepInput } from '../../step-schemas';

/** Destroy the instance's machine and volume after verifying their tags, and prove nothing is left. */
export const step = defineStep('DestroyResources', providerStepInput, destroyResources, { providers: providersFromConfig });

export const { handler, createHandler } = step;

import { retireReplacedResources } from '../steps';
import { providersFromConfig } from '../../../providers/configured';
import { defineStep } from '../../define-step';
import { providerStepInput } from '../../step-schemas';

/** Destroy the machine a recovery replaced and, unless retained, delete the volume it replaced (ownership verified). */
export const step = defineStep('RetireOldResources', providerStepInput, retireReplacedResources, { providers: providersFromConfig });

export const { handler, createHandler } = step;

import { ensureMachineMount } from '../steps';
import { providersFromConfig } from '../../../providers/configured';
import { defineStep } from '../../define-step';
import { providerStepInput } from '../../step-schemas';

/** Make sure the machine mounts the instance's volume, repairing it when it does not. */
export const step = defineStep('EnsureMachineMount', providerStepInput, ensureMachineMount, { providers: providersFromConfig });

export const { handler, createHandler } = step;

import { stopMachine } from '../steps';
import { providersFromConfig } from '../../../providers/configured';
import { defineStep } from '../../define-step';
import { providerStepInput } from '../../step-schemas';

/** Stop the instance's machine and wait until it is stopped (idempotent). */
export const step = defineStep('StopMachine', providerStepInput, stopMachine, { providers: providersFromConfig });

export const { handler, createHandler } = step;

import { stopMachine } from '../domain/machine-operations';
import { defineStep } from './define-step';
import { providerStepInput } from './schemas';

/** Stop the instance's machine and wait until it is stopped (idempotent). */
export const step = defineStep('StopMachine', providerStepInput, stopMachine);

export const { handler, createHandler } = step;

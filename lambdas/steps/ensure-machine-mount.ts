import { ensureMachineMount } from '../domain/machine-operations';
import { defineStep } from './define-step';
import { providerStepInput } from './schemas';

/** Make sure the machine mounts the instance's volume, repairing it when it does not. */
export const step = defineStep('EnsureMachineMount', providerStepInput, ensureMachineMount);

export const { handler, createHandler } = step;

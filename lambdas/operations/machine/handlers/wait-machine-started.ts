import * as z from 'zod';
import { waitMachineStarted } from '../steps';
import { providersFromConfig } from '../../../providers/configured';
import { defineStep } from '../../define-step';
import { providerStepInput } from '../../step-schemas';

/** Wait until the machine is started and healthy; MachineNotReady is retried by the ASL. */
export const step = defineStep('WaitMachineStarted', providerStepInput.extend({ machineId: z.string() }), waitMachineStarted, { providers: providersFromConfig });

export const { handler, createHandler } = step;

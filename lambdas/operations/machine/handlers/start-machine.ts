import * as z from 'zod';
import { startMachine } from '../steps';
import { providersFromConfig } from '../../../providers/configured';
import { defineStep } from '../../define-step';
import { providerStepInput } from '../../step-schemas';

/** Start the machine (a started one is left as is), only while the claim is ours. */
export const step = defineStep('StartMachine', providerStepInput.extend({ machineId: z.string() }), startMachine, { providers: providersFromConfig });

export const { handler, createHandler } = step;

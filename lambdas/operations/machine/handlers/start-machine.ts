import * as z from 'zod';
import { startMachine } from '../steps';
import { providersFromConfig } from '../../../providers/configured';
import { ErrorNames } from '../../../shared/errors/core';
import { defineStep, READS_AND_CALLS_PROVIDER } from '../../define-step';
import { providerStepInput } from '../../step-schemas';

/** Start the machine (a started one is left as is), only while the claim is ours. */
export const StartMachine = defineStep({
  name: 'StartMachine',
  description: 'Start the instance machine',
  file: __filename,
  input: providerStepInput.extend({ machineId: z.string() }),
  run: startMachine,
  timeoutSeconds: 60,
  permissions: READS_AND_CALLS_PROVIDER,
  transientErrors: [ErrorNames.ProviderUnavailable],
  providers: providersFromConfig,
});

export const { handler, createHandler } = StartMachine;

import { stopMachine } from '../steps';
import { providersFromConfig } from '../../../providers/configured';
import { ErrorNames } from '../../../shared/errors/core';
import { defineStep, READS_AND_CALLS_PROVIDER } from '../../define-step';
import { providerStepInput } from '../../step-schemas';

/** Stop the instance's machine and wait until it is stopped (idempotent). */
export const StopMachine = defineStep({
  name: 'StopMachine',
  description: 'Stop the instance machine and wait until it is stopped',
  file: __filename,
  input: providerStepInput,
  run: stopMachine,
  timeoutSeconds: 70,
  permissions: READS_AND_CALLS_PROVIDER,
  transientErrors: [ErrorNames.ProviderUnavailable, ErrorNames.MachineNotReady],
  providers: providersFromConfig,
});

export const { handler, createHandler } = StopMachine;

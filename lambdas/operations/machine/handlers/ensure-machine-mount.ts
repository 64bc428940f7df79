import { ensureMachineMount } from '../steps';
import { providersFromConfig } from '../../../providers/configured';
import { ErrorNames } from '../../../shared/errors/core';
import { defineStep } from '../../define-step';
import { providerStepInput } from '../../step-schemas';

/** Make sure the machine mounts the instance's volume, repairing it when it does not. */
export const EnsureMachineMount = defineStep({
  name: 'EnsureMachineMount',
  description: 'Repair a machine that does not mount the instance volume',
  file: __filename,
  input: providerStepInput,
  run: ensureMachineMount,
  timeoutSeconds: 90,
  transientErrors: [ErrorNames.ProviderUnavailable],
  providers: providersFromConfig,
});

export const { handler, createHandler } = EnsureMachineMount;

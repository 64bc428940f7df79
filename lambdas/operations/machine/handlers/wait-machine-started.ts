import * as z from 'zod';
import { waitMachineStarted } from '../steps';
import { providersFromConfig } from '../../../providers/configured';
import { ErrorNames } from '../../../shared/errors/core';
import { defineStep } from '../../define-step';
import { providerStepInput } from '../../step-schemas';

/** Wait until the machine is started and healthy; MachineNotReady is retried by the ASL. */
export const WaitMachineStarted = defineStep({
  name: 'WaitMachineStarted',
  description: 'Wait until the machine is started and healthy',
  file: __filename,
  input: providerStepInput.extend({ machineId: z.string() }),
  run: waitMachineStarted,
  timeoutSeconds: 70,
  permissions: { table: [], usesProvider: true },
  transientErrors: [ErrorNames.ProviderUnavailable, ErrorNames.MachineNotReady],
  providers: providersFromConfig,
});

export const { handler, createHandler } = WaitMachineStarted;

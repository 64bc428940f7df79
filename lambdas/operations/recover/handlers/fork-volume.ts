import * as z from 'zod';
import { RECOVERY_TRIGGERS } from '../../../domain/instance';
import { forkRecoveryVolume } from '../steps';
import { providersFromConfig } from '../../../providers/configured';
import { ErrorNames } from '../../../shared/errors/core';
import { defineStep } from '../../define-step';
import { providerStepInput } from '../../step-schemas';

const input = providerStepInput.extend({ trigger: z.enum(RECOVERY_TRIGGERS), reason: z.string() });

/** Fork the recovery's replacement volume from the instance's own; its name is recorded on the instance before it is created. */
export const ForkVolume = defineStep({
  name: 'ForkVolume',
  description: 'Fork the recovery replacement volume (its name recorded first)',
  file: __filename,
  input,
  run: forkRecoveryVolume,
  timeoutSeconds: 120,
  permissions: { table: ['GetItem', 'UpdateItem', 'BatchGetItem'], usesProvider: true },
  transientErrors: [ErrorNames.ProviderUnavailable],
  providers: providersFromConfig,
});

export const { handler, createHandler } = ForkVolume;

import { failRecovery } from '../steps';
import { providersFromConfig } from '../../../providers/configured';
import { ErrorNames } from '../../../shared/errors/core';
import { defineStep } from '../../define-step';
import { failureRecord, providerStepInput, stepFailureSchema } from '../../step-schemas';

const input = providerStepInput.extend({ failure: stepFailureSchema });

/**
 * Catch target of the recovery: destroy what it made (never the old volume), show the old machine's
 * real state with lastRecoveryError and the cooldown, fenced by the claim (after a cut-over: roll forward).
 */
export const FailRecovery = defineStep({
  name: 'FailRecovery',
  description: 'Destroy what a failed recovery made and show stopped with lastRecoveryError',
  file: __filename,
  input,
  run: (deps, input) => failRecovery(deps, { ...input, error: failureRecord(input.failure) }),
  timeoutSeconds: 120,
  permissions: { table: ['GetItem', 'UpdateItem', 'BatchGetItem'], usesProvider: true, publishesEvents: true },
  transientErrors: [ErrorNames.ProviderUnavailable],
  providers: providersFromConfig,
});

export const { handler, createHandler } = FailRecovery;

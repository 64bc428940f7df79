import { retireReplacedResources } from '../steps';
import { providersFromConfig } from '../../../providers/configured';
import { ErrorNames } from '../../../shared/errors/core';
import { defineStep } from '../../define-step';
import { providerStepInput } from '../../step-schemas';

/** Destroy the machine a recovery replaced and, unless retained, delete the volume it replaced (ownership verified). */
export const RetireOldResources = defineStep({
  name: 'RetireOldResources',
  description: 'Destroy the replaced machine and delete the replaced volume unless retained',
  file: __filename,
  input: providerStepInput,
  run: retireReplacedResources,
  timeoutSeconds: 120,
  permissions: { table: ['GetItem'], usesProvider: true, publishesEvents: true },
  transientErrors: [ErrorNames.ProviderUnavailable],
  providers: providersFromConfig,
});

export const { handler, createHandler } = RetireOldResources;

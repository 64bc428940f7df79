import { destroyResources } from '../../machine/steps';
import { providersFromConfig } from '../../../providers/configured';
import { ErrorNames } from '../../../shared/errors/core';
import { defineStep, CLEANS_UP_BY_TAGS } from '../../define-step';
import { providerStepInput } from '../../step-schemas';

/** Destroy the instance's machine and volume after verifying their tags, and prove nothing is left. */
export const DestroyResources = defineStep({
  name: 'DestroyResources',
  description: 'Destroy the instance machine and volume after verifying their tags',
  file: __filename,
  input: providerStepInput,
  run: destroyResources,
  timeoutSeconds: 120,
  permissions: CLEANS_UP_BY_TAGS,
  transientErrors: [ErrorNames.ProviderUnavailable],
  providers: providersFromConfig,
});

export const { handler, createHandler } = DestroyResources;

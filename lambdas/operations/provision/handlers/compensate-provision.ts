import { compensateProvision } from '../steps';
import { providersFromConfig } from '../../../providers/configured';
import { ErrorNames } from '../../../shared/errors/core';
import { defineStep, CLEANS_UP_BY_TAGS } from '../../define-step';
import { providerStepInput } from '../../step-schemas';

/** Destroy everything a failed provision made (found by tags) and verify it is gone; armed only while the claim is ours. */
export const CompensateProvision = defineStep({
  name: 'CompensateProvision',
  description: 'Destroy what a failed provision made and verify it is gone',
  file: __filename,
  input: providerStepInput,
  run: compensateProvision,
  timeoutSeconds: 120,
  permissions: CLEANS_UP_BY_TAGS,
  transientErrors: [ErrorNames.ProviderUnavailable],
  providers: providersFromConfig,
});

export const { handler, createHandler } = CompensateProvision;

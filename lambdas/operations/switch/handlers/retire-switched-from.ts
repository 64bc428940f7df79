import { retireSwitchedFrom } from '../steps';
import { providersFromConfig } from '../../../providers/configured';
import { ErrorNames } from '../../../shared/errors/core';
import { defineStep, READS_AND_CALLS_PROVIDER } from '../../define-step';
import { fencedStepInput } from '../../step-schemas';

/** Destroy the machine a switch moved away from (ownership verified); the old volume stays for the commit to retain. */
export const RetireSwitchedFrom = defineStep({
  name: 'RetireSwitchedFrom',
  description: 'Destroy the machine a switch moved away from (ownership verified)',
  file: __filename,
  input: fencedStepInput,
  run: retireSwitchedFrom,
  timeoutSeconds: 60,
  permissions: READS_AND_CALLS_PROVIDER,
  transientErrors: [ErrorNames.ProviderUnavailable],
  providers: providersFromConfig,
});

export const { handler, createHandler } = RetireSwitchedFrom;

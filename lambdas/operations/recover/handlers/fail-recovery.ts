import { failRecovery } from '../steps';
import { providersFromConfig } from '../../../providers/configured';
import { defineStep } from '../../define-step';
import { failureRecord, providerStepInput, stepFailureSchema } from '../../step-schemas';

const input = providerStepInput.extend({ failure: stepFailureSchema });

/**
 * Catch target of the recovery: destroy what it made (never the old volume), show the old machine's
 * real state with lastRecoveryError and the cooldown, fenced by the claim (after a cut-over: roll forward).
 */
export const step = defineStep('FailRecovery', input, (deps, input) => failRecovery(deps, { ...input, error: failureRecord(input.failure) }), { providers: providersFromConfig });

export const { handler, createHandler } = step;

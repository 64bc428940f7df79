import { recordSwitchFailure } from '../steps';
import { providersFromConfig } from '../../../providers/configured';
import { defineStep } from '../../define-step';
import { failureRecord, fencedStepInput, stepFailureSchema } from '../../step-schemas';

const input = fencedStepInput.extend({ failure: stepFailureSchema });

/** After a rollback: the old machine's real state plus lastSwitchError, claim released (fenced). */
export const step = defineStep('RecordSwitchFailure', input, (deps, input) => recordSwitchFailure(deps, { ...input, error: failureRecord(input.failure) }), { providers: providersFromConfig });

export const { handler, createHandler } = step;

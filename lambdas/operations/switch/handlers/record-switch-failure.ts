import { recordSwitchFailure } from '../steps';
import { providersFromConfig } from '../../../providers/configured';
import { defineStep } from '../../define-step';
import { failureRecord, fencedStepInput, stepFailureSchema } from '../../step-schemas';

const input = fencedStepInput.extend({ failure: stepFailureSchema });

/** After a rollback: the old machine's real state plus lastSwitchError, claim released (fenced). */
export const RecordSwitchFailure = defineStep({
  name: 'RecordSwitchFailure',
  description: "Release a rolled-back switch's claim with the old machine's real state and lastSwitchError",
  file: __filename,
  input,
  run: (deps, input) => recordSwitchFailure(deps, { ...input, error: failureRecord(input.failure) }),
  timeoutSeconds: 60,
  providers: providersFromConfig,
});

export const { handler, createHandler } = RecordSwitchFailure;

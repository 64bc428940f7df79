import { rollbackSwitch } from '../steps';
import { providersFromConfig } from '../../../providers/configured';
import { defineStep } from '../../define-step';
import { fencedStepInput } from '../../step-schemas';

/** Undo a switch: destroy what it made on the target (verified), point the instance at its old provider again (fenced). */
export const step = defineStep('RollbackSwitch', fencedStepInput, rollbackSwitch, { providers: providersFromConfig });

export const { handler, createHandler } = step;

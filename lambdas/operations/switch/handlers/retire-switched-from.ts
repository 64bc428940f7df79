import { retireSwitchedFrom } from '../steps';
import { providersFromConfig } from '../../../providers/configured';
import { defineStep } from '../../define-step';
import { fencedStepInput } from '../../step-schemas';

/** Destroy the machine a switch moved away from (ownership verified); the old volume stays for the commit to retain. */
export const step = defineStep('RetireSwitchedFrom', fencedStepInput, retireSwitchedFrom, { providers: providersFromConfig });

export const { handler, createHandler } = step;

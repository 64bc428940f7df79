import { markProviderWorkStarted } from '../../../domain/reservation';
import { defineStep } from '../../define-step';
import { fencedStepInput } from '../../step-schemas';

/** Fence the owner's reservation to this provision (`provider_work_started`); returns its version. */
export const step = defineStep('MarkProviderWorkStarted', fencedStepInput, markProviderWorkStarted);

export const { handler, createHandler } = step;

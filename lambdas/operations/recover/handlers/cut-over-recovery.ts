import * as z from 'zod';
import { cutOverRecovery } from '../steps';
import { providersFromConfig } from '../../../providers/configured';
import { defineStep } from '../../define-step';
import { providerStepInput } from '../../step-schemas';

const input = providerStepInput.extend({ endpoint: z.string().nullable() });

/** One fenced transaction: the instance on the new machine and volume, and the old volume's retention when it has snapshots. */
export const step = defineStep('CutOverRecovery', input, cutOverRecovery, { providers: providersFromConfig });

export const { handler, createHandler } = step;

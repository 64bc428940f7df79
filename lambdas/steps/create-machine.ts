import * as z from 'zod';
import { createMachine } from '../domain/provisioning';
import { providersFromConfig } from '../providers/configured';
import { defineStep } from './define-step';
import { providerStepInput } from './schemas';

const input = providerStepInput.extend({
  region: z.string(),
  size: z.string(),
  image: z.string(),
  volumeId: z.string(),
  generation: z.number().int().positive(),
  /** False: make the machine without starting it (a switch of a stopped instance). */
  start: z.boolean().optional(),
});

/** Create (or adopt) the instance's machine on its volume and record its id, fenced by the claim. */
export const step = defineStep('CreateMachine', input, createMachine, { providers: providersFromConfig });

export const { handler, createHandler } = step;

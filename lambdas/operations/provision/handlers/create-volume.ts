import * as z from 'zod';
import { createVolume } from '../steps';
import { providersFromConfig } from '../../../providers/configured';
import { defineStep } from '../../define-step';
import { providerStepInput } from '../../step-schemas';

const input = providerStepInput.extend({
  region: z.string(),
  sizeGb: z.number().int().positive(),
  generation: z.number().int().positive(),
  /** A switch: the old provider and volume, and whether the data goes along. */
  seedFrom: z.object({ provider: z.string().min(1), volumeId: z.string().min(1).nullable() }).optional(),
  data: z.enum(['copy', 'fresh']).optional(),
});

/** Create (or adopt) the instance's volume and record its id, fenced by the claim. */
export const step = defineStep('CreateVolume', input, createVolume, { providers: providersFromConfig });

export const { handler, createHandler } = step;

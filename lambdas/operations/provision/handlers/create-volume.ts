import * as z from 'zod';
import { createVolume } from '../steps';
import { providersFromConfig } from '../../../providers/configured';
import { ErrorNames } from '../../../shared/errors/core';
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
export const CreateVolume = defineStep({
  name: 'CreateVolume',
  description: 'Create or adopt the instance volume',
  file: __filename,
  input,
  run: createVolume,
  permissions: { table: ['GetItem', 'UpdateItem', 'BatchGetItem'], usesProvider: true },
  transientErrors: [ErrorNames.ProviderUnavailable],
  providers: providersFromConfig,
});

export const { handler, createHandler } = CreateVolume;

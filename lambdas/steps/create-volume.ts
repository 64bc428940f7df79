import { z } from 'zod';
import { fencedInstanceUpdate, requireClaim } from '../domain/fence';
import { createOrAdoptVolume, provisionTags } from '../domain/provider-resources';
import { defineStep } from './define-step';
import { fencedStepInput } from './schemas';

const input = fencedStepInput.extend({
  provider: z.string(),
  region: z.string(),
  sizeGb: z.number().int().positive(),
  reservationVersion: z.number().int().positive(),
});

/** Create (or adopt) the instance's volume and record its id, fenced by the claim. */
export const step = defineStep('CreateVolume', input, async (deps, input) => {
  // Check the claim before the side effect: a stale execution must not create anything.
  await requireClaim(deps, input.instanceId, input.claim);
  const { volume, adopted } = await createOrAdoptVolume(deps.providers.get(input.provider), {
    name: `vol_${input.instanceId.replace(/-/g, '_')}`,
    region: input.region,
    sizeGb: input.sizeGb,
    tags: provisionTags(input.owner, input.instanceId, input.reservationVersion),
  });
  await fencedInstanceUpdate(deps, input.instanceId, input.claim, { set: { volumeId: volume.id } });
  deps.logger.info('volume ready', { volumeId: volume.id, adopted });
  return { volumeId: volume.id, adopted };
});

export const { handler, createHandler } = step;

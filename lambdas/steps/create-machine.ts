import { z } from 'zod';
import { fencedInstanceUpdate, requireClaim } from '../domain/fence';
import { MOUNT_PATH } from '../domain/mount-repair';
import { createOrAdoptMachine, provisionTags } from '../domain/provider-resources';
import { defineStep } from './define-step';
import { fencedStepInput } from './schemas';

const input = fencedStepInput.extend({
  provider: z.string(),
  region: z.string(),
  size: z.string(),
  image: z.string(),
  volumeId: z.string(),
  reservationVersion: z.number().int().positive(),
});


/** Create (or adopt) the instance's machine on its volume and record its id, fenced by the claim. */
export const step = defineStep('CreateMachine', input, async (deps, input) => {
  await requireClaim(deps, input.instanceId, input.claim);
  const { machine, adopted } = await createOrAdoptMachine(deps.providers.get(input.provider), {
    name: input.instanceId,
    region: input.region,
    size: input.size,
    image: input.image,
    volumeId: input.volumeId,
    mountPath: MOUNT_PATH,
    tags: provisionTags(input.owner, input.instanceId, input.reservationVersion),
    env: { SLIPWAY_INSTANCE_ID: input.instanceId },
  });
  await fencedInstanceUpdate(deps, input.instanceId, input.claim, { set: { machineId: machine.id } });
  deps.logger.info('machine ready', { machineId: machine.id, adopted });
  return { machineId: machine.id, adopted };
});

export const { handler, createHandler } = step;

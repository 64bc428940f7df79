import { z } from 'zod';
import { requireClaim } from '../domain/fence';
import { assertOwned, destroyTaggedResources } from '../domain/provider-resources';
import { CleanupUnverifiedError } from '../shared/errors';
import { defineStep } from './define-step';
import { fencedStepInput } from './schemas';

const input = fencedStepInput.extend({ provider: z.string() });

/**
 * Destroy the instance's machine and volume. The recorded ones must carry this instance's tags
 * (never touch what we cannot prove we own); everything tagged with it goes, and a second
 * inventory must come back empty.
 */
export const step = defineStep('DestroyResources', input, async (deps, input) => {
  const instance = await requireClaim(deps, input.instanceId, input.claim);
  const provider = deps.providers.get(input.provider);
  const machine = instance.machineId ? await provider.getMachine(instance.machineId) : null;
  if (machine && machine.state !== 'destroyed') assertOwned(machine, instance.owner, instance.instanceId);
  const volume = instance.volumeId ? await provider.getVolume(instance.volumeId) : null;
  if (volume && volume.state !== 'destroyed') assertOwned(volume, instance.owner, instance.instanceId);

  const report = await destroyTaggedResources(provider, instance.owner, instance.instanceId);
  if (!report.verified) {
    throw new CleanupUnverifiedError(`Destroy of ${input.instanceId} left machines [${report.remaining.machines.join(', ')}] and volumes [${report.remaining.volumes.join(', ')}].`);
  }
  return report;
});

export const { handler, createHandler } = step;

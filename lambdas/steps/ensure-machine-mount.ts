import { z } from 'zod';
import { fencedInstanceUpdate, requireClaim } from '../domain/fence';
import { ensureMachineOnVolume } from '../domain/mount-repair';
import { defineStep } from './define-step';
import { fencedStepInput } from './schemas';

const input = fencedStepInput.extend({ provider: z.string() });

/** Make sure the machine mounts the instance's volume, repairing it when it does not. */
export const step = defineStep('EnsureMachineMount', input, async (deps, input) => {
  const instance = await requireClaim(deps, input.instanceId, input.claim);
  const { machine, repaired } = await ensureMachineOnVolume(deps.providers.get(input.provider), instance);
  if (machine.id !== instance.machineId) await fencedInstanceUpdate(deps, input.instanceId, input.claim, { set: { machineId: machine.id } });
  if (repaired) deps.logger.warn('machine mount repaired', { machineId: machine.id, previousMachineId: instance.machineId ?? null, volumeId: instance.volumeId });
  return { machineId: machine.id, repaired };
});

export const { handler, createHandler } = step;

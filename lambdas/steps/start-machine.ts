import { z } from 'zod';
import { requireClaim } from '../domain/fence';
import { defineStep } from './define-step';
import { fencedStepInput } from './schemas';

const input = fencedStepInput.extend({ provider: z.string(), machineId: z.string() });

/** Start the machine (a started one is left as is), only while the claim is ours. */
export const step = defineStep('StartMachine', input, async (deps, input) => {
  await requireClaim(deps, input.instanceId, input.claim);
  const provider = deps.providers.get(input.provider);
  const machine = await provider.getMachine(input.machineId);
  if (machine?.state !== 'started' && machine?.state !== 'starting') await provider.startMachine(input.machineId);
  return { machineId: input.machineId };
});

export const { handler, createHandler } = step;

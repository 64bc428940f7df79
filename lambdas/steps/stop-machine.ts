import { z } from 'zod';
import { requireClaim } from '../domain/fence';
import { defineStep } from './define-step';
import { fencedStepInput } from './schemas';

const input = fencedStepInput.extend({ provider: z.string() });

/** One wait stays under the Task timeout; MachineNotReady is retried by the ASL. */
const WAIT_MS = 30_000;

/** Stop the instance's machine and wait until it is stopped (idempotent: a stopped one is fine). */
export const step = defineStep('StopMachine', input, async (deps, input) => {
  const instance = await requireClaim(deps, input.instanceId, input.claim);
  if (!instance.machineId) return { machineId: null };
  const provider = deps.providers.get(input.provider);
  const machine = await provider.getMachine(instance.machineId);
  if (!machine || ['destroyed', 'stopped', 'created'].includes(machine.state)) return { machineId: instance.machineId };
  if (machine.state !== 'stopping') await provider.stopMachine(machine.id);
  await provider.waitForState(machine.id, 'stopped', WAIT_MS);
  return { machineId: instance.machineId };
});

export const { handler, createHandler } = step;

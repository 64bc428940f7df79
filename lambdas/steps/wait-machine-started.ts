import { z } from 'zod';
import { MachineNotReadyError } from '../shared/errors';
import { defineStep } from './define-step';
import { fencedStepInput } from './schemas';

const input = fencedStepInput.extend({ provider: z.string(), machineId: z.string() });

/** One wait stays well under the Task timeout; the ASL retries MachineNotReady with backoff. */
const WAIT_MS = 20_000;

/**
 * Wait until the machine is started and answers its health check. Not started yet, or not healthy
 * yet, is MachineNotReady (retried); a machine that stopped instead is MachineStartFailed.
 */
export const step = defineStep('WaitMachineStarted', input, async (deps, input) => {
  const provider = deps.providers.get(input.provider);
  const machine = await provider.waitForState(input.machineId, 'started', WAIT_MS);
  const health = await provider.probeHealth(input.machineId);
  if (!health.healthy) throw new MachineNotReadyError(`Machine ${input.machineId} is started but not healthy yet: ${health.error ?? health.status}`);
  return { endpoint: machine.endpoint };
});

export const { handler, createHandler } = step;

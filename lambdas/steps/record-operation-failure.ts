import { z } from 'zod';
import { releaseClaim } from '../domain/claims';
import { requireClaim, type InstanceUpdate } from '../domain/fence';
import type { InstanceItem } from '../domain/instance';
import type { ComputeProvider } from '../providers/compute-provider';
import { defineStep } from './define-step';
import { failureMessage, fencedStepInput, stepFailureSchema } from './schemas';

const input = fencedStepInput.extend({
  provider: z.string(),
  operation: z.enum(['start', 'stop', 'restart', 'destroy']),
  failure: stepFailureSchema,
});

type Failed = z.infer<typeof input>;

/** Stop a half-started machine; a failure here must not hide the original error. */
async function stopQuietly(provider: ComputeProvider, machineId: string | undefined): Promise<void> {
  if (!machineId) return;
  await provider.stopMachine(machineId).catch(() => undefined);
}

/** Whether the machine runs and answers, as the provider sees it now. */
async function runsHealthy(provider: ComputeProvider, machineId: string | undefined): Promise<string | null> {
  if (!machineId) return null;
  const machine = await provider.getMachine(machineId).catch(() => null);
  if (machine?.state !== 'started') return null;
  const health = await provider.probeHealth(machineId).catch(() => null);
  return health?.healthy ? (machine.endpoint ?? null) : null;
}

/** The visible outcome of a failed operation: the real provider state plus the error. */
async function outcomeOf(provider: ComputeProvider, instance: InstanceItem, failed: Failed): Promise<InstanceUpdate> {
  const error = { message: failureMessage(failed.failure), code: failed.failure.Error, at: new Date().toISOString() };
  switch (failed.operation) {
    case 'start': {
      await stopQuietly(provider, instance.machineId);
      return { set: { status: 'stopped', lastStartError: error }, remove: ['endpoint'] };
    }
    case 'restart':
    case 'stop': {
      const endpoint = await runsHealthy(provider, instance.machineId);
      const errorField = failed.operation === 'stop' ? 'lastStopError' : 'lastStartError';
      if (endpoint) return { set: { status: 'running', endpoint, [errorField]: error } };
      if (failed.operation === 'restart') await stopQuietly(provider, instance.machineId);
      return { set: { status: 'stopped', [errorField]: error }, remove: ['endpoint'] };
    }
    case 'destroy':
      // Stays `destroying` without a claim: visible, and a DELETE may try again.
      return { set: { status: 'destroying', lastDestroyError: error } };
  }
}

/**
 * Catch target of every lifecycle workflow: make the failure visible at once, in the step that
 * catches it, fenced by the claim — so it can never overwrite another operation's state.
 */
export const step = defineStep('RecordOperationFailure', input, async (deps, input) => {
  const instance = await requireClaim(deps, input.instanceId, input.claim);
  const outcome = await outcomeOf(deps.providers.get(input.provider), instance, input);
  await releaseClaim(deps, input.instanceId, input.claim, outcome);
  return { status: outcome.set?.status };
});

export const { handler, createHandler } = step;

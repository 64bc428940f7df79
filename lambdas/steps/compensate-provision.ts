import { z } from 'zod';
import { requireClaim } from '../domain/fence';
import { destroyTaggedResources } from '../domain/provider-resources';
import { CleanupUnverifiedError } from '../shared/errors';
import { defineStep } from './define-step';
import { fencedStepInput } from './schemas';

const input = fencedStepInput.extend({ provider: z.string() });

/**
 * Destroy everything a failed provision made, found by its ownership tags (so an ambiguous create
 * is found too), and prove it with a second inventory. Armed only while the claim is ours.
 */
export const step = defineStep('CompensateProvision', input, async (deps, input) => {
  await requireClaim(deps, input.instanceId, input.claim);
  const report = await destroyTaggedResources(deps.providers.get(input.provider), input.owner, input.instanceId);
  if (!report.verified) {
    throw new CleanupUnverifiedError(`Cleanup of ${input.instanceId} left machines [${report.remaining.machines.join(', ')}] and volumes [${report.remaining.volumes.join(', ')}].`, {
      context: { ...report },
    });
  }
  return report;
});

export const { handler, createHandler } = step;

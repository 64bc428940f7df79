import { z } from 'zod';
import { releaseClaim } from '../domain/claims';
import type { InstanceUpdate } from '../domain/fence';
import { defineStep } from './define-step';
import { fencedStepInput } from './schemas';

const input = fencedStepInput.extend({
  operation: z.enum(['start', 'stop', 'restart']),
  endpoint: z.string().nullable().optional(),
});

/** What a successful operation leaves behind; a success clears that operation's last error. */
function outcomeOf(operation: 'start' | 'stop' | 'restart', endpoint: string | null | undefined): InstanceUpdate {
  if (operation === 'stop') return { set: { status: 'stopped' }, remove: ['endpoint', 'lastStopError'] };
  return endpoint ? { set: { status: 'running', endpoint }, remove: ['lastStartError'] } : { set: { status: 'running' }, remove: ['lastStartError'] };
}

/** Release the claim with the operation's outcome, fenced by the claim. */
export const step = defineStep('FinishOperation', input, async (deps, input) => {
  const outcome = outcomeOf(input.operation, input.endpoint);
  await releaseClaim(deps, input.instanceId, input.claim, outcome);
  return { status: outcome.set?.status };
});

export const { handler, createHandler } = step;

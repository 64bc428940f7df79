/**
 * How a lifecycle operation (start, stop, restart, destroy) ends: its success releases the claim
 * with the new status, its failure shows the real provider state plus the error. Both are fenced
 * by the claim, so they can never overwrite another operation's state.
 */
import type { ComputeProvider } from '../../providers/compute-provider';
import { healthyEndpoint } from '../../domain/machine-health';
import type { Deps } from '../../composition/deps';
import { releaseClaim } from '../../domain/claims';
import { requireClaim, type InstanceUpdate } from '../../domain/fence';
import type { ErrorRecord, InstanceItem } from '../../domain/instance';
import { recordOutcome } from '../../shared/telemetry';
import { recordDestroyFailure } from './tombstone';
import { OPERATIONS, type FinishedOperation, type LifecycleOperation } from '../registry';

/** What a successful operation leaves behind; a success clears that operation's last error. */
function successOf(operation: FinishedOperation, endpoint: string | null | undefined): InstanceUpdate {
  if (operation === 'stop') return { set: { status: 'stopped' }, remove: ['endpoint', 'lastStopError'] };
  return endpoint ? { set: { status: 'running', endpoint }, remove: ['lastStartError'] } : { set: { status: 'running' }, remove: ['lastStartError'] };
}

/** Release the claim with the operation's outcome, fenced by the claim. */
export async function finishOperation(
  deps: Deps,
  input: { instanceId: string; claim: string; operation: FinishedOperation; endpoint?: string | null; executionStartedAt?: string },
): Promise<{ status: unknown }> {
  const outcome = successOf(input.operation, input.endpoint);
  await releaseClaim(deps, input.instanceId, input.claim, outcome);
  recordOutcome(deps.metrics, 'Succeeded', input.operation, input.executionStartedAt, deps.now());
  return { status: outcome.set?.status };
}

/** Stop a half-started machine; a failure here must not hide the original error. */
async function stopQuietly(provider: ComputeProvider, machineId: string | undefined): Promise<void> {
  if (!machineId) return;
  await provider.stopMachine(machineId).catch(() => undefined);
}

/** The visible outcome of a failed operation: the real provider state plus the error. */
async function failureOf(provider: ComputeProvider, instance: InstanceItem, operation: FinishedOperation, error: ErrorRecord): Promise<InstanceUpdate> {
  switch (operation) {
    case 'start': {
      await stopQuietly(provider, instance.machineId);
      return { set: { status: 'stopped', lastStartError: error }, remove: ['endpoint'] };
    }
    case 'restart':
    case 'stop': {
      const endpoint = await healthyEndpoint(provider, instance.machineId);
      const errorField = OPERATIONS[operation].errorField;
      if (endpoint) return { set: { status: 'running', endpoint, [errorField]: error } };
      if (operation === 'restart') await stopQuietly(provider, instance.machineId);
      return { set: { status: 'stopped', [errorField]: error }, remove: ['endpoint'] };
    }
  }
}

/**
 * Make a failed operation visible at once, in the step that catches it: the real provider state
 * plus the error, the claim released — fenced by the claim.
 */
export async function recordOperationFailure(
  deps: Deps,
  input: {
    instanceId: string;
    claim: string;
    provider: string;
    operation: LifecycleOperation;
    error: { message: string; code: string };
    executionStartedAt?: string;
  },
): Promise<{ status: unknown }> {
  const instance = await requireClaim(deps, input.instanceId, input.claim);
  if (input.operation === 'destroy') {
    // Stays `destroying` without a claim, visible, and due: the sweep retries it (a DELETE may too), capped, then parks it.
    const recorded = await recordDestroyFailure(deps, instance, input.claim, { ...input.error, at: deps.now().toISOString() });
    recordOutcome(deps.metrics, 'Failed', input.operation, input.executionStartedAt, deps.now());
    return { status: recorded.status };
  }
  const outcome = await failureOf(deps.providers.get(input.provider), instance, input.operation, { ...input.error, at: deps.now().toISOString() });
  await releaseClaim(deps, input.instanceId, input.claim, outcome);
  recordOutcome(deps.metrics, 'Failed', input.operation, input.executionStartedAt, deps.now());
  return { status: outcome.set?.status };
}

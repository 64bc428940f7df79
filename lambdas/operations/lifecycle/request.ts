import { executionArnOf, startNamedExecution } from '../../adapters/workflows';
import { stateMachineArn, type Deps } from '../../composition/deps';
import { WorkflowUnavailableError } from '../../shared/errors/workflow';
import { claimInstance, releaseClaim, type Claim, type ClaimedOperation, type ClaimExpectation, type ClaimOptions } from '../../domain/claims';
import * as z from 'zod';
import { instanceViewSchema, toInstanceView } from '../../domain/instance';
import { CLAIMED_OPERATIONS } from '../registry';

/** What a request for an operation on an existing instance answers (202). */
export const operationAcceptedSchema = z
  .object({
    instance: instanceViewSchema,
    operation: z.object({ kind: z.enum(CLAIMED_OPERATIONS), executionName: z.string(), executionArn: z.string() }),
  })
  .meta({ id: 'OperationAccepted' });
export type OperationAccepted = z.infer<typeof operationAcceptedSchema>;

/**
 * Claim the instance, then start the operation's workflow under the claim's deterministic name.
 * If the workflow cannot be started, the claim is handed back (fenced) so the instance is not
 * left looking busy, and the caller is told to retry. `input` adds to the execution's input (a
 * recovery's trigger and reason); `expect` is what a sweep saw when it decided; `alsoWrite` goes in
 * the claim's transaction (an operator's audit record).
 */
export async function requestOperation(
  deps: Deps,
  instanceId: string,
  owners: readonly string[],
  operation: Exclude<ClaimedOperation, 'switch'>,
  options: { expect?: ClaimExpectation; input?: Record<string, unknown>; alsoWrite?: ClaimOptions['alsoWrite'] } = {},
): Promise<OperationAccepted> {
  const claim = await claimInstance(deps, instanceId, owners, operation, { expect: options.expect, alsoWrite: options.alsoWrite });
  const input = { ...options.input, instanceId, owner: claim.instance.owner, provider: claim.instance.provider, operation };
  return startClaimedOperation(deps, claim, input);
}

/**
 * Start the workflow of a won claim under the claim's execution name. The critical section belongs
 * to the execution from here on, never to the request. If Step Functions cannot be reached the
 * claim is handed back (fenced: status restored, the operation's own fields removed), so a loser
 * of nothing is left looking busy, and the caller is told to retry.
 */
export async function startClaimedOperation(deps: Deps, claim: Claim, input: Record<string, unknown>, recorded: readonly string[] = []): Promise<OperationAccepted> {
  const { instance, operation, executionName } = claim;
  const smArn = stateMachineArn(deps, operation);
  try {
    await startNamedExecution(deps.sfn, smArn, executionName, input, deps.correlationId);
  } catch (error) {
    deps.logger.error('could not start workflow; returning the claim', { instanceId: instance.instanceId, executionName, error: error as Error });
    await releaseClaim(deps, instance.instanceId, executionName, { set: { status: claim.previousStatus }, remove: [...recorded] }).catch(() => undefined);
    throw new WorkflowUnavailableError(executionName, { cause: error });
  }
  deps.logger.info('operation started', { instanceId: instance.instanceId, owner: instance.owner, operation, executionName });
  return {
    instance: toInstanceView(instance),
    operation: { kind: operation, executionName, executionArn: executionArnOf(smArn, executionName) },
  };
}

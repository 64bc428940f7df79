import { executionArnOf, startNamedExecution } from '../adapters/workflows';
import { stateMachineArn, type Deps } from '../shared/deps';
import { WorkflowUnavailableError } from '../shared/errors';
import { claimInstance, releaseClaim, type ClaimableOperation, type ClaimExpectation } from './claims';
import * as z from 'zod';
import { instanceViewSchema, toInstanceView } from './instance';

/** What a lifecycle request answers (202). */
export const operationAcceptedSchema = z
  .object({
    instance: instanceViewSchema,
    operation: z.object({ kind: z.enum(['start', 'stop', 'restart', 'destroy', 'recover']), executionName: z.string(), executionArn: z.string() }),
  })
  .meta({ id: 'OperationAccepted' });
export type OperationAccepted = z.infer<typeof operationAcceptedSchema>;

/** The input every lifecycle execution gets; the steps read the rest from the instance item. */
export interface LifecycleExecutionInput {
  instanceId: string;
  owner: string;
  provider: string;
  operation: ClaimableOperation;
}

/**
 * Claim the instance, then start the operation's workflow under the claim's deterministic name.
 * If the workflow cannot be started, the claim is handed back (fenced) so the instance is not
 * left looking busy, and the caller is told to retry. `input` adds to the execution's input (a
 * recovery's trigger and reason); `expect` is what a sweep saw when it decided.
 */
export async function requestOperation(
  deps: Deps,
  instanceId: string,
  owners: readonly string[],
  operation: ClaimableOperation,
  options: { expect?: ClaimExpectation; input?: Record<string, unknown> } = {},
): Promise<OperationAccepted> {
  const claim = await claimInstance(deps, instanceId, owners, operation, { expect: options.expect });
  const { instance } = claim;
  const smArn = stateMachineArn(deps, operation);
  const input: LifecycleExecutionInput & Record<string, unknown> = { ...options.input, instanceId, owner: instance.owner, provider: instance.provider, operation };
  try {
    await startNamedExecution(deps.sfn, smArn, claim.executionName, { ...input }, deps.correlationId);
  } catch (error) {
    deps.logger.error('could not start workflow; returning the claim', { instanceId, executionName: claim.executionName, error: error as Error });
    await releaseClaim(deps, instanceId, claim.executionName, { set: { status: claim.previousStatus } }).catch(() => undefined);
    throw new WorkflowUnavailableError(claim.executionName, { cause: error });
  }
  deps.logger.info('operation started', { instanceId, owner: instance.owner, operation, executionName: claim.executionName });
  return {
    instance: toInstanceView(instance),
    operation: { kind: operation, executionName: claim.executionName, executionArn: executionArnOf(smArn, claim.executionName) },
  };
}

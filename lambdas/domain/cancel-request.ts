/**
 * A cancel request, recorded on the instance (fenced by the claim that names the execution) before
 * the execution is stopped: whoever settles that claim next — the API right after its
 * StopExecution, the execution-closed listener, the reconcile sweep after a crash — reads it, stops
 * the execution again if it still runs, and records `cancelled` as the operation's error.
 */
import * as z from 'zod';
import { executionArnOf, stopExecution } from '../adapters/workflows';
import type { Deps } from '../composition/deps';
import type { InstanceItem, Operation } from './instance';
import { OPERATION_NAMES, OPERATIONS } from '../operations/registry';

/** Who asked to cancel which execution, and when (kept after the claim is released: a repeated DELETE answers from it). */
export const cancelRequestSchema = z
  .object({
    executionName: z.string(),
    requestedBy: z.string().meta({ description: 'The caller that asked (its owner id)' }),
    requestedAt: z.string(),
  })
  .meta({ id: 'CancelRequest' });
export type CancelRequest = z.infer<typeof cancelRequestSchema>;

/**
 * The operations an owner may cancel, as the registry states them (`cancel` in each spec): each is
 * settled by its own lost-execution rule — a provision compensated, a switch rolled back, a start,
 * stop or restart showing the machine's real state. A destroy and a recovery are not.
 */
export const CANCELLABLE_OPERATIONS: readonly Operation[] = OPERATION_NAMES.filter((kind) => OPERATIONS[kind].cancel.cancellable);

/** Why an operation of this kind is never cancelled; null when it may be. */
export function whyNotCancellable(kind: Operation): string | null {
  const rule: { cancellable: boolean; why?: string } = OPERATIONS[kind].cancel;
  return rule.cancellable ? null : (rule.why ?? 'it is not cancellable');
}

/** The error code a cancelled operation records in its last…Error. */
export const CANCELLED_CODE = 'cancelled';

/** The Error a cancelled execution is stopped with (its ABORTED status carries it). */
export const CANCELLED_EXECUTION_ERROR = 'Cancelled';

/** The cancel request recorded for `claim`, if one is. */
export function cancelRequestFor(instance: Pick<InstanceItem, 'cancelRequest'>, claim: string): CancelRequest | null {
  return instance.cancelRequest?.executionName === claim ? instance.cancelRequest : null;
}

/** The error a settle records for a cancelled operation. */
export function cancelledError(kind: Operation, request: CancelRequest): { code: string; message: string } {
  return { code: CANCELLED_CODE, message: `The ${kind} was cancelled by ${request.requestedBy} at ${request.requestedAt}.` };
}

/**
 * Stop a cancelled operation's execution (again: a repeat is harmless). False when no state machine
 * is configured for the kind or the execution does not exist (it is then settled as lost).
 */
export async function stopCancelledExecution(deps: Deps, kind: Operation, request: CancelRequest): Promise<boolean> {
  const stateMachineArn = deps.stateMachines[kind as keyof Deps['stateMachines']];
  if (!stateMachineArn) return false;
  return stopExecution(deps.sfn, executionArnOf(stateMachineArn, request.executionName), {
    error: CANCELLED_EXECUTION_ERROR,
    cause: `Cancelled by ${request.requestedBy} at ${request.requestedAt}`,
  });
}

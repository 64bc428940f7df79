/**
 * Cancel a running operation (`DELETE /v1/instances/{id}/operations/{name}`): record the request on
 * the instance, fenced by the claim that names the execution (nothing happens before it is won),
 * stop the execution, then settle it at once by the rule a lost execution takes (settle.ts), which
 * records `cancelled` as the operation's last…Error. Every step converges: a request that dies
 * after the write leaves a claim whose cancel the reconcile sweep finds (the write makes it due
 * within a sweep period), stops again and settles; a settle that outlasts `cancelSettleMs` (10 s) is left
 * to the execution-closed listener and the sweep, and the answer says it is not settled yet.
 */
import * as z from 'zod';
import type { Deps } from '../composition/deps';
import { after, attentionAt } from '../domain/attention';
import { cancelRequestFor, cancelRequestSchema, stopCancelledExecution, whyNotCancellable, type CancelRequest } from '../domain/cancel-request';
import { fencedInstanceUpdate } from '../domain/fence';
import { instanceViewSchema, toInstanceView, type InstanceItem, type OperationRecord } from '../domain/instance';
import { messageOf } from '../shared/errors/core';
import { InstanceNotFoundError, OperationEndedError, OperationNotCancellableError } from '../shared/errors/refusals';
import { ClaimLostError, ExecutionNotFoundError } from '../shared/errors/workflow';
import { settleInstanceNow } from '../sweeps/reconcile/settle';
import { readInstance } from '../views/instance-queries';
import { describeOperations, operationViewSchema, toOperationView } from '../views/operations-history';

/** What a cancel answers: the instance and the operation as they are now, and the recorded request. */
export const cancellationSchema = z
  .object({
    instance: instanceViewSchema,
    operation: operationViewSchema,
    cancel: cancelRequestSchema,
    settled: z.boolean().meta({
      description: "True once the operation no longer holds the instance: its last…Error reads code `cancelled` (unless the operation ended on its own first). False: the execution is stopped or being stopped, and the sweep finishes the settle",
    }),
  })
  .meta({ id: 'Cancellation' });
export type Cancellation = z.infer<typeof cancellationSchema>;

/** Who cancels: the owners the caller may act for, and the id recorded as having asked. */
export interface Canceller {
  owners: readonly string[];
  requestedBy: string;
}

/**
 * Cancel operation `name` of an instance of the caller. A repeat answers as the first did (the
 * request is kept on the instance); an operation that ended without a cancel is OperationEnded; a
 * destroy or recovery is OperationNotCancellable; another owner's instance is not found.
 */
export async function cancelOperation(deps: Deps, instanceId: string, name: string, caller: Canceller): Promise<Cancellation> {
  for (;;) {
    const item = await readInstance(deps, instanceId);
    if (!item || !caller.owners.includes(item.owner)) throw new InstanceNotFoundError(instanceId);
    const record = (item.operations ?? []).find((operation) => operation.executionName === name);
    if (!record) throw new ExecutionNotFoundError(name);
    const requested = cancelRequestFor(item, name);
    if (requested) return item.claim === name ? stopAndSettle(deps, instanceId, record, requested) : answer(deps, item, record, requested);
    if (item.claim !== name) throw new OperationEndedError(instanceId, name);
    const refused = whyNotCancellable(record.kind);
    if (refused) throw new OperationNotCancellableError(instanceId, name, record.kind, refused);
    const now = deps.now();
    const request: CancelRequest = { executionName: name, requestedBy: caller.requestedBy, requestedAt: now.toISOString() };
    try {
      // Due within a sweep period: if this request dies before its StopExecution, the sweep stops it.
      await fencedInstanceUpdate(deps, instanceId, name, { set: { cancelRequest: request, ...attentionAt(item.pk, after(now, deps.settings.sweepPeriodSeconds)) } });
    } catch (error) {
      if (!(error instanceof ClaimLostError)) throw error;
      continue; // it ended (or was cancelled) meanwhile: decide on what it is now
    }
    deps.logger.info('operation cancel requested', { instanceId, executionName: name, kind: record.kind, requestedBy: request.requestedBy });
    return stopAndSettle(deps, instanceId, record, request);
  }
}

/** Stop the execution (again), settle the claim within the bound, and answer what the instance is now. */
async function stopAndSettle(deps: Deps, instanceId: string, record: OperationRecord, request: CancelRequest): Promise<Cancellation> {
  await stopCancelledExecution(deps, record.kind, request);
  await settleWithin(deps, instanceId, deps.settings.cancelSettleMs);
  const item = await readInstance(deps, instanceId);
  if (!item) throw new InstanceNotFoundError(instanceId);
  return answer(deps, item, record, request);
}

/**
 * Settle the instance by the sweep's rules, waiting at most `ms`. The execution-closed listener
 * may settle the same claim at once (its rules are fenced: the loser finds the claim gone); a
 * settle that fails or outlasts the bound is left to the sweep.
 */
async function settleWithin(deps: Deps, instanceId: string, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const settling = settleInstanceNow(deps, instanceId).then(
    () => undefined,
    (error: unknown) => {
      if (!(error instanceof ClaimLostError)) deps.logger.warn('cancel: settle failed, left to the sweep', { instanceId, error: messageOf(error) });
    },
  );
  const bound = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  try {
    await Promise.race([settling, bound]);
  } finally {
    clearTimeout(timer);
  }
}

/** The instance and the operation as they are now. */
async function answer(deps: Deps, item: InstanceItem, record: OperationRecord, request: CancelRequest): Promise<Cancellation> {
  const [execution] = await describeOperations(deps, [record], item.claim);
  // The stored request: of concurrent cancels the last write is the one every later answer shows.
  return { instance: toInstanceView(item), operation: toOperationView(execution!), cancel: cancelRequestFor(item, record.executionName) ?? request, settled: item.claim !== record.executionName };
}

/**
 * What starts a recovery: the reconcile sweep's drift check (an unrequested exit, outside the
 * cooldown) and an operator's forced recovery (audited). Both claim `running|stopped → recovering`
 * and start the `recover` workflow (`recovery.ts`) under the claim's deterministic name.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import type { Deps } from '../shared/deps';
import { InstanceNotFoundError } from '../shared/errors';
import { auditPutItem, auditRecord, auditRecordSchema } from './audit';
import type { InstanceItem, RecoveryTrigger } from './instance';
import { readInstance } from './instance-queries';
import { emitLifecycleEvent } from './lifecycle-events';
import { operationAcceptedSchema, requestOperation, type OperationAccepted } from './lifecycle';
import { subjectOf } from './recovery';

/**
 * Start a recovery: claim `running|stopped → recovering` and start the `recover` workflow under the
 * claim's deterministic name. The sweep passes what it saw (`expect`), so an instance that moved on
 * since (a user stopped it) is refused, not recovered.
 */
export async function startRecovery(
  deps: Deps,
  instance: InstanceItem,
  request: { trigger: RecoveryTrigger; reason: string; expect?: boolean },
): Promise<OperationAccepted> {
  const accepted = await requestOperation(deps, instance.instanceId, [instance.owner], 'recover', {
    expect: request.expect ? { version: instance.version, status: instance.status } : undefined,
    input: { trigger: request.trigger, reason: request.reason },
  });
  await emitLifecycleEvent(deps, 'instance.recovery_started', subjectOf(instance), {
    executionName: accepted.operation.executionName,
    trigger: request.trigger,
    reason: request.reason,
    machineId: instance.machineId ?? null,
    volumeId: instance.volumeId ?? null,
  });
  deps.logger.info('recovery started', { instanceId: instance.instanceId, owner: instance.owner, executionName: accepted.operation.executionName, trigger: request.trigger });
  return accepted;
}

/** The body of `POST /v1/admin/instances/{id}/recover`. */
export const recoverRequestSchema = z.strictObject({ reason: z.string().trim().min(3).max(500) });
export type RecoverRequest = z.infer<typeof recoverRequestSchema>;

/** What a forced recovery answers: the operation, and its audit record. */
export const recoverAcceptedSchema = operationAcceptedSchema.extend({ audit: auditRecordSchema }).meta({ id: 'RecoveryAccepted' });
export type RecoverAccepted = z.infer<typeof recoverAcceptedSchema>;

/**
 * An operator forces a recovery (a disk that went bad, a machine that keeps misbehaving): from
 * `running` or `stopped`, whatever the cooldown says — the operator decides; audited under the owner.
 */
export async function recoverByOperator(deps: Deps, instanceId: string, actor: string, request: RecoverRequest): Promise<RecoverAccepted> {
  const instance = await readInstance(deps, instanceId);
  if (!instance) throw new InstanceNotFoundError(instanceId);
  const accepted = await startRecovery(deps, instance, { trigger: 'operator', reason: request.reason });
  const audit = auditRecord(deps, {
    owner: instance.owner,
    action: 'instance.recover',
    actor,
    reason: request.reason,
    before: { instanceId, status: instance.status, machineId: instance.machineId ?? null, volumeId: instance.volumeId ?? null, executionName: accepted.operation.executionName },
  });
  await deps.db.send(new PutCommand(auditPutItem(deps, audit).Put as never));
  deps.logger.info('audit: recovery forced by operator', { audit });
  return { ...accepted, audit };
}

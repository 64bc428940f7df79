/**
 * What starts a recovery: the reconcile sweep's drift check (an unrequested exit, outside the
 * cooldown) and an operator's forced recovery (audited). Both claim `running → recovering`
 * and start the `recover` workflow (`recovery.ts`) under the claim's deterministic name.
 */
import * as z from 'zod';
import type { Deps } from '../../composition/deps';
import { InstanceNotFoundError } from '../../shared/errors/refusals';
import { auditPutItem, auditRecord, auditRecordSchema, type AuditRecord } from '../../domain/audit';
import type { ClaimOptions } from '../../domain/claims';
import type { InstanceItem, RecoveryTrigger } from '../../domain/instance';
import { readInstance } from '../../views/instance-queries';
import { emitLifecycleEvent } from '../../domain/lifecycle-events';
import { operationAcceptedSchema, requestOperation, type OperationAccepted } from '../lifecycle/request';
import { subjectOf } from './steps';

/**
 * Start a recovery: claim `running → recovering` and start the `recover` workflow under the
 * claim's deterministic name. The sweep passes what it saw (`expect`), so an instance that moved on
 * since (a user stopped it) is refused, not recovered.
 */
export async function startRecovery(
  deps: Deps,
  instance: InstanceItem,
  request: { trigger: RecoveryTrigger; reason: string; expect?: boolean; alsoWrite?: ClaimOptions['alsoWrite'] },
): Promise<OperationAccepted> {
  const accepted = await requestOperation(deps, instance.instanceId, [instance.owner], 'recover', {
    expect: request.expect ? { version: instance.version, status: instance.status } : undefined,
    input: { trigger: request.trigger, reason: request.reason },
    alsoWrite: request.alsoWrite,
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
 * An operator forces a recovery (a disk that went bad, a machine that keeps misbehaving) of a
 * `running` instance, whatever the cooldown says — the operator decides. A stopped one is refused
 * (409 invalid_state): a recovery ends running, and the owner stopped it. The audit record (under
 * the owner) is written in the claim's own transaction: no recovery without its record, no record
 * of a recovery that was refused.
 */
export async function recoverByOperator(deps: Deps, instanceId: string, actor: string, request: RecoverRequest): Promise<RecoverAccepted> {
  const instance = await readInstance(deps, instanceId);
  if (!instance) throw new InstanceNotFoundError(instanceId);
  let audit: AuditRecord | undefined;
  const accepted = await startRecovery(deps, instance, {
    trigger: 'operator',
    reason: request.reason,
    alsoWrite: (current, executionName) => {
      audit = auditRecord(deps, {
        owner: current.owner,
        action: 'instance.recover',
        actor,
        reason: request.reason,
        before: { instanceId, status: current.status, machineId: current.machineId ?? null, volumeId: current.volumeId ?? null, executionName },
      });
      return [auditPutItem(deps, audit)];
    },
  });
  deps.logger.info('audit: recovery forced by operator', { audit });
  return { ...accepted, audit: audit! };
}

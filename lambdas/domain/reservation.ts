/**
 * The owner reservation item: the admission gate for fresh provisions (at most one unresolved per
 * owner) and the fencing token (`version`) of the provision it admitted. This module owns its
 * shape, its statuses and the rules that move between them, and every write to it.
 */
import { randomInt } from 'node:crypto';
import { GetCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { attentionShardOf, cancellationCodes, isConditionFailed, isTransactionConflict, keys } from '../adapters/dynamo';
import type { Deps } from '../shared/deps';
import {
  ContentionTimeoutError,
  ExecutionStillRunningError,
  ReservationLostError,
  ReservationNotFoundError,
  ReservationNotReleasableError,
} from '../shared/errors';
import { auditPutItem, auditRecord, auditRecordSchema } from './audit';
import type { TransactItem } from './fence';
import { describeOperation } from './operations-history';

/** Reservation states (ARCHITECTURE §2). */
export const RESERVATION_STATUSES = ['admitted', 'provider_work_started', 'completed', 'released', 'needs_reconciliation'] as const;
export type ReservationStatus = (typeof RESERVATION_STATUSES)[number];

/** States that block the owner's next provision until they resolve. */
export const UNRESOLVED_STATUSES: readonly ReservationStatus[] = ['admitted', 'provider_work_started', 'needs_reconciliation'];

/**
 * The reservation rules, in one table: from which statuses each transition may move the owner's
 * reservation, and where to. Every write below takes its condition from here.
 */
export const RESERVATION_RULES = {
  /** A new provision takes the gate; a reservation that never existed may be taken too. */
  admit: { from: ['completed', 'released'], to: 'admitted' },
  /** The provision fences the reservation before its first provider call (idempotent). */
  startProviderWork: { from: ['admitted', 'provider_work_started'], to: 'provider_work_started' },
  /** The provision succeeded. */
  complete: { from: ['provider_work_started'], to: 'completed' },
  /** The provision failed and its cleanup is verified: the owner may try again. */
  release: { from: ['admitted', 'provider_work_started'], to: 'released' },
  /** The provision failed and its cleanup is not verified: the reconcile sweep takes over. */
  handOver: { from: ['admitted', 'provider_work_started'], to: 'needs_reconciliation' },
  /** The reconcile sweep cleaned up after a provision that ended without (or with an unverified) cleanup. */
  reconciled: { from: ['admitted', 'provider_work_started', 'needs_reconciliation'], to: 'released' },
  /** The instance it admitted was destroyed. */
  releaseForDestroy: { from: UNRESOLVED_STATUSES, to: 'released' },
  /** An operator released it (audited). */
  operatorRelease: { from: UNRESOLVED_STATUSES, to: 'released' },
} as const satisfies Record<string, { from: readonly ReservationStatus[]; to: ReservationStatus }>;

/** A reservation transition's name. */
export type ReservationTransition = keyof typeof RESERVATION_RULES;

/** The reservation item as stored. */
export const reservationSchema = z.looseObject({
  owner: z.string(),
  status: z.enum(RESERVATION_STATUSES),
  /** The fencing token: every admission increments it. */
  version: z.number().int().meta({ description: 'The fencing token' }),
  instanceId: z.string(),
  executionName: z.string(),
  deadline: z.string(),
  updatedAt: z.string(),
  idempotencyKey: z.string().optional(),
  requestHash: z.string().optional(),
  releasedBy: z.string().optional(),
  releasedAt: z.string().optional(),
  releaseReason: z.string().optional(),
  releasedReason: z.string().optional(),
}).meta({ id: 'Reservation', description: 'The owner reservation item as stored' });
export type ReservationItem = z.infer<typeof reservationSchema>;

/** `#status IN (:from0, …)` with its values, for a transition's condition. */
function fromCondition(transition: ReservationTransition): { expression: string; values: Record<string, string> } {
  const values = Object.fromEntries(RESERVATION_RULES[transition].from.map((status, i) => [`:from${i}`, status]));
  return { expression: `#status IN (${Object.keys(values).join(', ')})`, values };
}

/** Read the owner's reservation item (strongly consistent), or null. */
export async function readReservation(deps: Deps, owner: string): Promise<ReservationItem | null> {
  const out = await deps.db.send(new GetCommand({ TableName: deps.tableName, Key: keys.reservation(owner), ConsistentRead: true }));
  return (out.Item as ReservationItem | undefined) ?? null;
}

/** What admission writes into the reservation. */
export interface ReservationAdmission {
  owner: string;
  instanceId: string;
  executionName: string;
  idempotencyKey: string;
  requestHash: string;
  deadline: string;
  now: string;
}

/**
 * Admission's reservation write, as a transaction item: take the gate (none unresolved), bump the
 * fencing token, and stay on the attention index until resolved. On a failed condition the old item
 * comes back, so admission can say which instance holds the gate.
 */
export function admitReservationItem(deps: Deps, admission: ReservationAdmission): TransactItem {
  const from = fromCondition('admit');
  return {
    Update: {
      TableName: deps.tableName,
      Key: keys.reservation(admission.owner),
      UpdateExpression:
        'SET #type = :type, #owner = :owner, #status = :to, #version = if_not_exists(#version, :zero) + :one, instanceId = :instanceId, executionName = :executionName, idempotencyKey = :key, requestHash = :hash, deadline = :deadline, updatedAt = :now, attentionShard = :shard, attentionAt = :deadline',
      ConditionExpression: `attribute_not_exists(pk) OR ${from.expression}`,
      ExpressionAttributeNames: { '#type': 'type', '#owner': 'owner', '#status': 'status', '#version': 'version' },
      ExpressionAttributeValues: {
        ':type': 'reservation',
        ':owner': admission.owner,
        ':to': RESERVATION_RULES.admit.to,
        ':zero': 0,
        ':one': 1,
        ':instanceId': admission.instanceId,
        ':executionName': admission.executionName,
        ':key': admission.idempotencyKey,
        ':hash': admission.requestHash,
        ':deadline': admission.deadline,
        ':now': admission.now,
        ':shard': attentionShardOf(keys.reservation(admission.owner).pk),
        ...from.values,
      },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  };
}

/**
 * A provision's outcome on its reservation, as a transaction item fenced by the instance it was
 * admitted for (and, when given, the version that admitted it). An unresolved outcome stays on the
 * attention index for the reconcile sweep; a resolved one leaves it.
 */
export function reservationOutcomeItem(
  deps: Deps,
  owner: string,
  instanceId: string,
  transition: 'complete' | 'release' | 'handOver' | 'reconciled',
  version?: number,
): TransactItem {
  const to = RESERVATION_RULES[transition].to;
  const from = fromCondition(transition);
  const unresolved = UNRESOLVED_STATUSES.includes(to);
  const now = deps.now().toISOString();
  return {
    Update: {
      TableName: deps.tableName,
      Key: keys.reservation(owner),
      UpdateExpression: unresolved
        ? 'SET #status = :to, updatedAt = :now, attentionShard = :shard, attentionAt = :now'
        : 'SET #status = :to, updatedAt = :now REMOVE attentionShard, attentionAt',
      ConditionExpression: `instanceId = :instanceId AND ${from.expression}${version ? ' AND #version = :version' : ''}`,
      ExpressionAttributeNames: { '#status': 'status', ...(version ? { '#version': 'version' } : {}) },
      ExpressionAttributeValues: {
        ':to': to,
        ':now': now,
        ':instanceId': instanceId,
        ...from.values,
        ...(version ? { ':version': version } : {}),
        ...(unresolved ? { ':shard': attentionShardOf(keys.reservation(owner).pk) } : {}),
      },
    },
  };
}

/**
 * Move the owner's reservation to `provider_work_started`, fenced by the instance it was admitted
 * for. Idempotent: a retry finds it already moved. Returns the version (the fencing token later
 * steps carry and tag resources with).
 */
export async function markProviderWorkStarted(deps: Deps, input: { owner: string; instanceId: string }): Promise<{ version: number }> {
  const from = fromCondition('startProviderWork');
  try {
    const out = await deps.db.send(
      new UpdateCommand({
        TableName: deps.tableName,
        Key: keys.reservation(input.owner),
        UpdateExpression: 'SET #status = :to, updatedAt = :now',
        ConditionExpression: `instanceId = :instanceId AND ${from.expression}`,
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':to': RESERVATION_RULES.startProviderWork.to, ':instanceId': input.instanceId, ':now': deps.now().toISOString(), ...from.values },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return { version: Number(out.Attributes?.version) };
  } catch (error) {
    if (isConditionFailed(error)) throw new ReservationLostError(`The reservation of ${input.owner} no longer belongs to ${input.instanceId}.`, { cause: error });
    throw error;
  }
}

/**
 * The outcome item of a transition when the owner's reservation is still this instance's and
 * allows it, else null: an operator may have released it, and that must not block finishing the
 * instance. The transaction that carries the item re-checks the condition.
 */
export async function reservationOutcomeIfHeld(
  deps: Deps,
  owner: string,
  instanceId: string,
  transition: 'release' | 'handOver' | 'reconciled',
): Promise<TransactItem | null> {
  const current = await readReservation(deps, owner);
  const allowed = (RESERVATION_RULES[transition].from as readonly ReservationStatus[]).includes(current?.status as ReservationStatus);
  return current && current.instanceId === instanceId && allowed ? reservationOutcomeItem(deps, owner, instanceId, transition) : null;
}

/** Move an unresolved reservation's next look to `at` (fenced by its version). */
export async function rescheduleReservation(deps: Deps, reservation: ReservationItem, at: Date): Promise<void> {
  try {
    await deps.db.send(
      new UpdateCommand({
        TableName: deps.tableName,
        Key: keys.reservation(reservation.owner),
        UpdateExpression: 'SET attentionShard = :shard, attentionAt = :at',
        ConditionExpression: '#version = :version AND #status = :status',
        ExpressionAttributeNames: { '#version': 'version', '#status': 'status' },
        ExpressionAttributeValues: { ':shard': attentionShardOf(keys.reservation(reservation.owner).pk), ':at': at.toISOString(), ':version': reservation.version, ':status': reservation.status },
      }),
    );
  } catch (error) {
    if (!isConditionFailed(error)) throw error; // it moved on: the next look follows its new state
  }
}

/** Take a reservation off the attention index (an operator takes over an exhausted cleanup). */
export async function unscheduleReservation(deps: Deps, reservation: ReservationItem): Promise<void> {
  try {
    await deps.db.send(
      new UpdateCommand({
        TableName: deps.tableName,
        Key: keys.reservation(reservation.owner),
        UpdateExpression: 'REMOVE attentionShard, attentionAt',
        ConditionExpression: '#version = :version AND #status = :status',
        ExpressionAttributeNames: { '#version': 'version', '#status': 'status' },
        ExpressionAttributeValues: { ':version': reservation.version, ':status': reservation.status },
      }),
    );
  } catch (error) {
    if (!isConditionFailed(error)) throw error;
  }
}

/** Release the owner's reservation if it is unresolved and still points at this (destroyed) instance. */
export async function releaseReservationOfDestroyed(deps: Deps, owner: string, instanceId: string): Promise<void> {
  const from = fromCondition('releaseForDestroy');
  try {
    await deps.db.send(
      new UpdateCommand({
        TableName: deps.tableName,
        Key: keys.reservation(owner),
        UpdateExpression: 'SET #status = :to, releasedReason = :why, updatedAt = :now REMOVE attentionShard, attentionAt',
        ConditionExpression: `instanceId = :instanceId AND ${from.expression}`,
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':to': RESERVATION_RULES.releaseForDestroy.to,
          ':why': `instance ${instanceId} destroyed`,
          ':now': deps.now().toISOString(),
          ':instanceId': instanceId,
          ...from.values,
        },
      }),
    );
  } catch (error) {
    if (!isConditionFailed(error)) throw error;
  }
}

/** The body of `POST /v1/admin/owners/{owner}/reservation/release`; strict, and a reason is required. */
export const releaseRequestSchema = z.strictObject({
  reason: z.string().trim().min(3).max(500),
});
export type ReleaseRequest = z.infer<typeof releaseRequestSchema>;

/** What an operator release answers. */
export const releaseResultSchema = z.object({ reservation: reservationSchema, audit: auditRecordSchema }).meta({ id: 'ReservationRelease' });
export type ReleaseResult = z.infer<typeof releaseResultSchema>;

const RELEASE_ATTEMPTS = 4;

/**
 * The operator escape hatch: release an owner's unresolved reservation, so the owner may provision
 * again. Refused while the reservation's provision execution still runs (its own steps resolve the
 * reservation) and when it is resolved already. The release and its audit record are one
 * transaction, fenced by the status and version read, so a release that raced a workflow step or
 * a new admission is decided again on fresh state rather than applied to something nobody looked at.
 */
export async function releaseReservation(deps: Deps, owner: string, actor: string, request: ReleaseRequest): Promise<ReleaseResult> {
  for (let attempt = 1; ; attempt++) {
    const current = await readReservation(deps, owner);
    if (!current) throw new ReservationNotFoundError(owner);
    if (!(RESERVATION_RULES.operatorRelease.from as readonly ReservationStatus[]).includes(current.status)) {
      throw new ReservationNotReleasableError(owner, current.status);
    }
    const execution = await describeOperation(deps, { kind: 'provision', executionName: current.executionName });
    if (execution.status === 'RUNNING') throw new ExecutionStillRunningError(execution.executionArn ?? current.executionName, { context: { owner } });

    const audit = auditRecord(deps, {
      owner,
      action: 'reservation.release',
      actor,
      reason: request.reason,
      before: { status: current.status, version: current.version, instanceId: current.instanceId },
    });
    try {
      await deps.db.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: deps.tableName,
                Key: keys.reservation(owner),
                UpdateExpression: 'SET #status = :to, releasedBy = :actor, releasedAt = :at, releaseReason = :reason, updatedAt = :at REMOVE attentionShard, attentionAt',
                ConditionExpression: '#status = :status AND #version = :version',
                ExpressionAttributeNames: { '#status': 'status', '#version': 'version' },
                ExpressionAttributeValues: {
                  ':to': RESERVATION_RULES.operatorRelease.to,
                  ':actor': actor,
                  ':at': audit.at,
                  ':reason': request.reason,
                  ':status': current.status,
                  ':version': current.version,
                },
              },
            },
            auditPutItem(deps, audit),
          ],
        }),
      );
    } catch (error) {
      const fenceLost = cancellationCodes(error)?.some((c) => c.code === 'ConditionalCheckFailed') ?? false;
      if (!fenceLost && !isTransactionConflict(error)) throw error;
      if (attempt >= RELEASE_ATTEMPTS) throw new ContentionTimeoutError({ cause: error, context: { owner, attempts: attempt } });
      // The reservation moved since we read it: decide again on what it is now.
      await new Promise((resolve) => setTimeout(resolve, randomInt(1, 10 * 2 ** attempt)));
      continue;
    }
    deps.logger.info('audit: reservation released by operator', { audit });
    // Exactly what the fenced write made of the item we read.
    const { attentionShard: _shard, attentionAt: _attention, ...rest } = current as ReservationItem & { attentionShard?: string; attentionAt?: string };
    return {
      reservation: { ...rest, status: RESERVATION_RULES.operatorRelease.to, releasedBy: actor, releasedAt: audit.at, releaseReason: request.reason, updatedAt: audit.at },
      audit,
    };
  }
}

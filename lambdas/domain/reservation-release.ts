import { randomInt } from 'node:crypto';
import { GetCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { ulid } from 'ulid';
import { z } from 'zod';
import { cancellationCodes, isTransactionConflict, keys } from '../adapters/dynamo';
import type { Deps } from '../shared/deps';
import { ContentionTimeoutError, ExecutionStillRunningError, ReservationNotFoundError, ReservationNotReleasableError } from '../shared/errors';
import type { ReservationItem, ReservationStatus } from './admission';
import { describeOperation } from './operations-history';

/** The body of `POST /v1/admin/owners/{owner}/reservation/release`; strict, and a reason is required. */
export const releaseRequestSchema = z.strictObject({
  reason: z.string().trim().min(3).max(500),
});
export type ReleaseRequest = z.infer<typeof releaseRequestSchema>;

/** A reservation as stored, with what an operator release adds to it. */
export type StoredReservation = ReservationItem & {
  type?: 'reservation';
  releasedBy?: string;
  releasedAt?: string;
  releaseReason?: string;
  releasedReason?: string;
  attentionShard?: string;
  attentionAt?: string;
};

/** An operator action, stored under its owner so the owner's registry can show it. */
export interface AuditRecord {
  id: string;
  owner: string;
  action: 'reservation.release' | 'quota.set';
  actor: string;
  reason: string;
  at: string;
  /** What the action changed, as it was before. */
  before: Record<string, unknown>;
}

/** What a release answers. */
export interface ReleaseResult {
  reservation: StoredReservation;
  audit: AuditRecord;
}

/** Reservations that are resolved already; releasing them again would change nothing useful. */
const RESOLVED: readonly ReservationStatus[] = ['completed', 'released'];
const MAX_ATTEMPTS = 4;

/** Read the owner's reservation item (strongly consistent), or null. */
export async function readReservation(deps: Deps, owner: string): Promise<StoredReservation | null> {
  const out = await deps.db.send(new GetCommand({ TableName: deps.tableName, Key: keys.reservation(owner), ConsistentRead: true }));
  return (out.Item as StoredReservation | undefined) ?? null;
}

/** The owner's most recent audit records, newest first. */
export async function recentAuditRecords(deps: Deps, owner: string, limit = 20): Promise<AuditRecord[]> {
  const out = await deps.db.send(
    new QueryCommand({
      TableName: deps.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': keys.owner(owner).pk, ':prefix': keys.auditPrefix },
      ScanIndexForward: false,
      Limit: limit,
    }),
  );
  return ((out.Items ?? []) as Array<AuditRecord & { pk: string; sk: string; type: string }>).map(({ pk: _pk, sk: _sk, type: _type, ...record }) => record);
}

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
    if (RESOLVED.includes(current.status)) throw new ReservationNotReleasableError(owner, current.status);
    const execution = await describeOperation(deps, { kind: 'provision', executionName: current.executionName });
    if (execution.status === 'RUNNING') throw new ExecutionStillRunningError(execution.executionArn ?? current.executionName, { context: { owner } });

    const at = deps.now().toISOString();
    const audit: AuditRecord = {
      id: ulid(),
      owner,
      action: 'reservation.release',
      actor,
      reason: request.reason,
      at,
      before: { status: current.status, version: current.version, instanceId: current.instanceId },
    };
    try {
      await deps.db.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: deps.tableName,
                Key: keys.reservation(owner),
                UpdateExpression:
                  'SET #status = :released, releasedBy = :actor, releasedAt = :at, releaseReason = :reason, updatedAt = :at REMOVE attentionShard, attentionAt',
                ConditionExpression: '#status = :status AND #version = :version',
                ExpressionAttributeNames: { '#status': 'status', '#version': 'version' },
                ExpressionAttributeValues: {
                  ':released': 'released',
                  ':actor': actor,
                  ':at': at,
                  ':reason': request.reason,
                  ':status': current.status,
                  ':version': current.version,
                },
              },
            },
            {
              Put: {
                TableName: deps.tableName,
                Item: { ...keys.audit(owner, at, audit.id), type: 'audit', ...audit },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
          ],
        }),
      );
    } catch (error) {
      const fenceLost = cancellationCodes(error)?.some((c) => c.code === 'ConditionalCheckFailed') ?? false;
      if (!fenceLost && !isTransactionConflict(error)) throw error;
      if (attempt >= MAX_ATTEMPTS) throw new ContentionTimeoutError({ cause: error, context: { owner, attempts: attempt } });
      // The reservation moved since we read it: decide again on what it is now.
      await new Promise((resolve) => setTimeout(resolve, randomInt(1, 10 * 2 ** attempt)));
      continue;
    }
    deps.logger.info('audit: reservation released by operator', { audit });
    // Exactly what the fenced write made of the item we read.
    const { attentionShard: _shard, attentionAt: _attention, ...rest } = current;
    return { reservation: { ...rest, status: 'released', releasedBy: actor, releasedAt: at, releaseReason: request.reason, updatedAt: at }, audit };
  }
}

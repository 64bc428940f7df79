import { GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { ulid } from 'ulid';
import { z } from 'zod';
import { keys } from '../adapters/dynamo';
import type { Deps } from '../shared/deps';
import type { AuditRecord } from './reservation-release';

/** Body of `PUT /v1/admin/owners/{owner}/quota`. */
export const setQuotaRequestSchema = z.strictObject({
  limit: z.number().int().min(0).max(1000),
  reason: z.string().min(3).max(500),
});
export type SetQuotaRequest = z.infer<typeof setQuotaRequestSchema>;

/** The owner's quota after a change, with the stored audit record. */
export interface QuotaChange {
  owner: string;
  activeInstances: number;
  limit: number;
  audit: AuditRecord;
}

/**
 * Set an owner's instance limit (admission's conditional write reads it; the configured default
 * applies while unset). Lowering it below the live count only stops new admissions. The change
 * and its audit record are written together.
 */
export async function setOwnerQuota(deps: Deps, owner: string, actor: string, request: SetQuotaRequest): Promise<QuotaChange> {
  const before = await deps.db.send(new GetCommand({ TableName: deps.tableName, Key: keys.owner(owner), ConsistentRead: true }));
  const at = deps.now().toISOString();
  const audit: AuditRecord = {
    id: ulid(),
    owner,
    action: 'quota.set',
    actor,
    reason: request.reason,
    at,
    before: { limit: (before.Item?.instanceLimit as number | undefined) ?? null, defaultLimit: deps.settings.defaultInstanceLimit },
  };
  await deps.db.send(
    new TransactWriteCommand({
      TransactItems: [
        {
          Update: {
            TableName: deps.tableName,
            Key: keys.owner(owner),
            UpdateExpression: 'SET #type = :type, #owner = :owner, instanceLimit = :limit, updatedAt = :at',
            ExpressionAttributeNames: { '#type': 'type', '#owner': 'owner' },
            ExpressionAttributeValues: { ':type': 'owner', ':owner': owner, ':limit': request.limit, ':at': at },
          },
        },
        { Put: { TableName: deps.tableName, Item: { ...keys.audit(owner, at, audit.id), type: 'audit', ...audit }, ConditionExpression: 'attribute_not_exists(pk)' } },
      ],
    }),
  );
  deps.logger.info('owner quota set', { owner, actor, limit: request.limit, reason: request.reason });
  return { owner, activeInstances: (before.Item?.activeInstances as number | undefined) ?? 0, limit: request.limit, audit };
}

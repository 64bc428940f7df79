/**
 * Owners and the owner item. An owner is a user (`user:<sub>`) or an organisation (`org:<id>`); its
 * item holds the quota: how many instances hold a slot (`activeInstances`) and the owner's own limit
 * (`instanceLimit`, the configured default while unset). This module owns every write to it.
 */
import { GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { keys } from '../adapters/dynamo';
import type { Deps } from '../shared/deps';
import { auditPutItem, auditRecord, auditRecordSchema } from './audit';
import type { TransactItem } from './fence';

/** An owner: a user (`user:<sub>`) or an organisation (`org:<id>`). */
export const ownerSchema = z.string().regex(/^(user|org):[A-Za-z0-9._@|:-]{1,128}$/, 'must be user:<id> or org:<id>');
export type Owner = z.infer<typeof ownerSchema>;

/** The owner key of a token subject. */
export function userOwner(sub: string): Owner {
  return `user:${sub}`;
}

/** An owner's quota as callers and operators see it. */
export const quotaSchema = z.object({ activeInstances: z.number().int(), limit: z.number().int() });
export type Quota = z.infer<typeof quotaSchema>;

/** The owner's quota: live slots and the limit that applies. */
export async function readQuota(deps: Deps, owner: string): Promise<Quota> {
  const out = await deps.db.send(new GetCommand({ TableName: deps.tableName, Key: keys.owner(owner), ConsistentRead: true }));
  const item = out.Item as { activeInstances?: number; instanceLimit?: number } | undefined;
  return { activeInstances: item?.activeInstances ?? 0, limit: item?.instanceLimit ?? deps.settings.defaultInstanceLimit };
}

/**
 * Admission's quota write, as a transaction item: take a slot while below the owner's limit (the
 * configured default while the owner has none). On a failed condition the old item comes back, so
 * admission can say which limit applied.
 */
export function takeQuotaSlotItem(deps: Deps, owner: string, now: string): TransactItem {
  return {
    Update: {
      TableName: deps.tableName,
      Key: keys.owner(owner),
      UpdateExpression: 'SET #type = :type, #owner = :owner, updatedAt = :now ADD activeInstances :one',
      ConditionExpression:
        '(attribute_not_exists(instanceLimit) AND (attribute_not_exists(activeInstances) OR activeInstances < :defaultLimit)) OR ' +
        '(attribute_not_exists(activeInstances) AND instanceLimit > :zero) OR activeInstances < instanceLimit',
      ExpressionAttributeNames: { '#type': 'type', '#owner': 'owner' },
      ExpressionAttributeValues: { ':type': 'owner', ':owner': owner, ':now': now, ':one': 1, ':zero': 0, ':defaultLimit': deps.settings.defaultInstanceLimit },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  };
}

/** Give one slot back, as a transaction item; never below zero. */
export function returnQuotaSlotItem(deps: Deps, owner: string): TransactItem {
  return {
    Update: {
      TableName: deps.tableName,
      Key: keys.owner(owner),
      UpdateExpression: 'ADD activeInstances :minusOne SET updatedAt = :now',
      ConditionExpression: 'activeInstances >= :one',
      ExpressionAttributeValues: { ':minusOne': -1, ':one': 1, ':now': deps.now().toISOString() },
    },
  };
}

/** Body of `PUT /v1/admin/owners/{owner}/quota`. */
export const setQuotaRequestSchema = z.strictObject({
  limit: z.number().int().min(0).max(1000),
  reason: z.string().min(3).max(500),
});
export type SetQuotaRequest = z.infer<typeof setQuotaRequestSchema>;

/** The owner's quota after a change, with the stored audit record. */
export const quotaChangeSchema = quotaSchema.extend({ owner: z.string(), audit: auditRecordSchema }).meta({ id: 'OwnerQuota' });
export type QuotaChange = z.infer<typeof quotaChangeSchema>;

/**
 * Set an owner's instance limit (admission's conditional write reads it; the configured default
 * applies while unset). Lowering it below the live count only stops new admissions. The change
 * and its audit record are written together.
 */
export async function setOwnerQuota(deps: Deps, owner: string, actor: string, request: SetQuotaRequest): Promise<QuotaChange> {
  const before = await deps.db.send(new GetCommand({ TableName: deps.tableName, Key: keys.owner(owner), ConsistentRead: true }));
  const audit = auditRecord(deps, {
    owner,
    action: 'quota.set',
    actor,
    reason: request.reason,
    before: { limit: (before.Item?.instanceLimit as number | undefined) ?? null, defaultLimit: deps.settings.defaultInstanceLimit },
  });
  await deps.db.send(
    new TransactWriteCommand({
      TransactItems: [
        {
          Update: {
            TableName: deps.tableName,
            Key: keys.owner(owner),
            UpdateExpression: 'SET #type = :type, #owner = :owner, instanceLimit = :limit, updatedAt = :at',
            ExpressionAttributeNames: { '#type': 'type', '#owner': 'owner' },
            ExpressionAttributeValues: { ':type': 'owner', ':owner': owner, ':limit': request.limit, ':at': audit.at },
          },
        },
        auditPutItem(deps, audit),
      ],
    }),
  );
  deps.logger.info('owner quota set', { owner, actor, limit: request.limit, reason: request.reason });
  return { owner, activeInstances: (before.Item?.activeInstances as number | undefined) ?? 0, limit: request.limit, audit };
}

import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { ulid } from 'ulid';
import * as z from 'zod';
import { keys } from '../adapters/dynamo';
import type { Deps } from '../composition/deps';
import type { TransactItem } from './fence';

/** Operator actions that leave an audit record. */
export const AUDIT_ACTIONS = ['reservation.release', 'quota.set', 'instance.settle', 'instance.recover', 'volume.delete', 'sweep.run'] as const;

/** An operator action, stored under its owner so the owner's registry can show it. */
export const auditRecordSchema = z.object({
  id: z.string(),
  owner: z.string(),
  action: z.enum(AUDIT_ACTIONS),
  actor: z.string(),
  reason: z.string(),
  at: z.string(),
  /** What the action changed, as it was before. */
  before: z.record(z.string(), z.unknown()).meta({ description: 'What the action changed, as it was before' }),
  outcome: z.array(z.string()).optional().meta({ description: 'What the action did, added once it was done (a settle: its actions)' }),
}).meta({ id: 'AuditRecord' });
export type AuditRecord = z.infer<typeof auditRecordSchema>;

/** A new audit record of an action taken now. */
export function auditRecord(deps: Deps, fields: Omit<AuditRecord, 'id' | 'at'>): AuditRecord {
  return { id: ulid(), at: deps.now().toISOString(), ...fields };
}

/** The audit record as a transaction item, so it is stored in the same transaction as the change it records. */
export function auditPutItem(deps: Deps, record: AuditRecord): TransactItem {
  return {
    Put: {
      TableName: deps.tableName,
      Item: { ...keys.audit(record.owner, record.at, record.id), type: 'audit', ...record },
      ConditionExpression: 'attribute_not_exists(pk)',
    },
  };
}

/** The audit record's item update that adds what the action did (written after the action, to the record its start wrote). */
export function auditOutcomeItem(deps: Deps, record: AuditRecord, outcome: string[]): TransactItem {
  return {
    Update: {
      TableName: deps.tableName,
      Key: keys.audit(record.owner, record.at, record.id),
      UpdateExpression: 'SET outcome = :outcome',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeValues: { ':outcome': outcome },
    },
  };
}

/** The owner's most recent audit records, newest first. */
export async function recentAuditRecords(deps: Deps, owner: string, limit = 20): Promise<AuditRecord[]> {
  const out = await deps.db.send(
    new QueryCommand({
      TableName: deps.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': keys.ownerPartition(owner), ':prefix': keys.auditPrefix },
      ScanIndexForward: false,
      Limit: limit,
    }),
  );
  return ((out.Items ?? []) as Array<AuditRecord & { pk: string; sk: string; type: string }>).map(({ pk: _pk, sk: _sk, type: _type, ...record }) => record);
}

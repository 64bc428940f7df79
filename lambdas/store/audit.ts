/**
 * Audit records (`OWNER#<owner>` / `AUDIT#<at>#<id>`) in the table: their keys, the put that never
 * overwrites, the outcome added later and the owner's newest records. The record's shape is the
 * domain's (`domain/audit.ts`).
 */
import { keys } from './keys';

/** What the store needs of an audit record (its shape is the domain's, which imports this module). */
type AuditRecord = { id: string; owner: string; at: string } & Record<string, unknown>;
import { putItem, queryPage, type TableDeps, type TransactItem } from './table';

/** The audit record as a transaction item, so it is stored in the same transaction as the change it records. */
export function auditPut(deps: TableDeps, record: AuditRecord): TransactItem {
  return {
    Put: {
      TableName: deps.tableName,
      Item: { ...keys.audit(record.owner, record.at, record.id), type: 'audit', ...record },
      ConditionExpression: 'attribute_not_exists(pk)',
    },
  };
}

/** Store an audit record on its own (an action that changes no item of ours in the same write). */
export function putAudit(deps: TableDeps, record: AuditRecord): Promise<void> {
  return putItem(deps, auditPut(deps, record).Put!);
}

/** The audit record's item update that adds what the action did (written after the action, to the record its start wrote). */
export function auditOutcomeUpdate(deps: TableDeps, record: AuditRecord, outcome: string[]): TransactItem {
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
export async function queryAuditRecords<T>(deps: TableDeps, owner: string, limit: number): Promise<T[]> {
  const out = await queryPage<Record<string, unknown>>(deps, {
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
    ExpressionAttributeValues: { ':pk': keys.ownerPartition(owner), ':prefix': keys.auditPrefix },
    ScanIndexForward: false,
    Limit: limit,
  });
  return out.items.map(({ pk: _pk, sk: _sk, type: _type, ...record }) => record as T);
}

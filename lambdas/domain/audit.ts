import { ulid } from 'ulid';
import * as z from 'zod';
import type { Deps } from '../composition/deps';
import { auditOutcomeUpdate, auditPut, queryAuditRecords } from '../store/audit';
import type { TransactItem } from '../store/table';

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
  return auditPut(deps, record);
}

/** The audit record's item update that adds what the action did (written after the action, to the record its start wrote). */
export function auditOutcomeItem(deps: Deps, record: AuditRecord, outcome: string[]): TransactItem {
  return auditOutcomeUpdate(deps, record, outcome);
}

/** The owner's most recent audit records, newest first. */
export function recentAuditRecords(deps: Deps, owner: string, limit = 20): Promise<AuditRecord[]> {
  return queryAuditRecords<AuditRecord>(deps, owner, limit);
}

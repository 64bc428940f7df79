/**
 * The sweep's lease: one item per sweep (`SWEEP#<name>` / `LEASE`) taken with a conditional write,
 * so overlapping or duplicated runs (a scheduler retry, an operator's "run now") never work at once.
 * It also remembers when the sweep last inventoried the providers for orphans.
 */
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { isConditionFailed } from '../../adapters/dynamo';
import type { Deps } from '../../shared/deps';

/** The lease item's key. */
export function leaseKey(sweep: string): { pk: string; sk: string } {
  return { pk: `SWEEP#${sweep}`, sk: 'LEASE' };
}

/** The lease item as stored. */
export interface LeaseItem {
  holder?: string;
  leaseUntil?: string;
  lastOrphanScanAt?: string;
  lastRunAt?: string;
}

/** Take the lease for `seconds` unless another run holds it; the previous item (what the sweep last did) on success. */
export async function acquireLease(deps: Deps, sweep: string, holder: string, seconds: number): Promise<LeaseItem | null> {
  const now = deps.now();
  try {
    const out = await deps.db.send(
      new UpdateCommand({
        TableName: deps.tableName,
        Key: leaseKey(sweep),
        UpdateExpression: 'SET holder = :holder, leaseUntil = :until, #type = :type',
        ConditionExpression: 'attribute_not_exists(leaseUntil) OR leaseUntil < :now',
        ExpressionAttributeNames: { '#type': 'type' },
        ExpressionAttributeValues: { ':holder': holder, ':until': new Date(now.getTime() + seconds * 1000).toISOString(), ':now': now.toISOString(), ':type': 'lease' },
        ReturnValues: 'ALL_OLD',
      }),
    );
    return (out.Attributes as LeaseItem | undefined) ?? {};
  } catch (error) {
    if (isConditionFailed(error)) return null;
    throw error;
  }
}

/** Who holds the lease now, if anyone. */
export async function leaseHolder(deps: Deps, sweep: string): Promise<LeaseItem | null> {
  const out = await deps.db.send(new GetCommand({ TableName: deps.tableName, Key: leaseKey(sweep), ConsistentRead: true }));
  return (out.Item as LeaseItem | undefined) ?? null;
}

/** Give the lease back (only our own), recording what this run did. */
export async function releaseLease(deps: Deps, sweep: string, holder: string, record: { lastOrphanScanAt?: string }): Promise<void> {
  try {
    await deps.db.send(
      new UpdateCommand({
        TableName: deps.tableName,
        Key: leaseKey(sweep),
        UpdateExpression: `SET lastRunAt = :now${record.lastOrphanScanAt ? ', lastOrphanScanAt = :scan' : ''} REMOVE holder, leaseUntil`,
        ConditionExpression: 'holder = :holder',
        ExpressionAttributeValues: { ':holder': holder, ':now': deps.now().toISOString(), ...(record.lastOrphanScanAt ? { ':scan': record.lastOrphanScanAt } : {}) },
      }),
    );
  } catch (error) {
    if (!isConditionFailed(error)) throw error; // expired and taken over: nothing of ours to release
  }
}

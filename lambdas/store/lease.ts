/**
 * The sweep lease item (`SWEEP#<name>` / `LEASE`) in the table: its key, its read and its
 * conditional writes (take, renew, release). Who may hold it and for how long is the sweep's
 * (`sweeps/lease.ts`); a lost condition comes back as the store's named errors.
 */
import { getItem, transactWrite, updateItem, type TableDeps, type TransactItem, type UpdateParams } from './table';

/** The lease item's key. */
export function leaseKey(sweep: string): { pk: string; sk: string } {
  return { pk: `SWEEP#${sweep}`, sk: 'LEASE' };
}

/** Who takes the lease, until when, and whether an earlier boot of the same runtime counts as gone. */
export interface LeaseTakeWrite {
  holder: string;
  runtime: string;
  boot: string;
  now: Date;
  until: Date;
  takeOverOwnDeadBoot: boolean;
}

/** Read the lease item (strongly consistent), or null. */
export function getLease<T>(deps: TableDeps, sweep: string): Promise<T | null> {
  return getItem<T>(deps, leaseKey(sweep));
}

function takeParams(deps: TableDeps, sweep: string, take: LeaseTakeWrite): UpdateParams {
  const takeOver = take.takeOverOwnDeadBoot ? ' OR (holderRuntime = :runtime AND holderBoot <> :boot)' : '';
  return {
    TableName: deps.tableName,
    Key: leaseKey(sweep),
    UpdateExpression: 'SET holder = :holder, holderRuntime = :runtime, holderBoot = :boot, leaseUntil = :until, heartbeatAt = :now, #type = :type',
    ConditionExpression: `attribute_not_exists(leaseUntil) OR leaseUntil < :now${takeOver}`,
    ExpressionAttributeNames: { '#type': 'type' },
    ExpressionAttributeValues: {
      ':holder': take.holder,
      ':runtime': take.runtime,
      ':boot': take.boot,
      ':until': take.until.toISOString(),
      ':now': take.now.toISOString(),
      ':type': 'lease',
    },
  };
}

/**
 * Take the lease unless it is held (and unexpired): alone, returning the item as it was before;
 * or first in a transaction with `alsoWrite`, returning nothing (a transaction returns no old item).
 * A held lease is a ConditionFailedError (alone, carrying the lease) or a TransactionConditionFailedError.
 */
export async function takeLease<T>(deps: TableDeps, sweep: string, take: LeaseTakeWrite, alsoWrite: readonly TransactItem[] = []): Promise<T | undefined> {
  if (alsoWrite.length) {
    await transactWrite(deps, [{ Update: takeParams(deps, sweep, take) }, ...alsoWrite]);
    return undefined;
  }
  return updateItem<T>(deps, takeParams(deps, sweep, take), 'ALL_OLD');
}

/** Push the lease's expiry to `until` while `holder` holds it; otherwise a ConditionFailedError. */
export async function renewLeaseItem(deps: TableDeps, sweep: string, holder: string, now: Date, until: Date): Promise<void> {
  await updateItem(
    deps,
    {
      TableName: deps.tableName,
      Key: leaseKey(sweep),
      UpdateExpression: 'SET leaseUntil = :until, heartbeatAt = :now',
      ConditionExpression: 'holder = :holder',
      ExpressionAttributeValues: { ':holder': holder, ':until': until.toISOString(), ':now': now.toISOString() },
    },
    'NONE',
  );
}

/** Give the lease back while `holder` holds it, recording what the run did; otherwise a ConditionFailedError. */
export async function releaseLeaseItem(deps: TableDeps, sweep: string, holder: string, now: Date, record: { lastOrphanScanAt?: string; lastFleetAuditAt?: string }): Promise<void> {
  await updateItem(
    deps,
    {
      TableName: deps.tableName,
      Key: leaseKey(sweep),
      UpdateExpression: `SET lastRunAt = :now${record.lastOrphanScanAt ? ', lastOrphanScanAt = :scan' : ''}${record.lastFleetAuditAt ? ', lastFleetAuditAt = :audit' : ''} REMOVE holder, holderRuntime, holderBoot, leaseUntil, heartbeatAt`,
      ConditionExpression: 'holder = :holder',
      ExpressionAttributeValues: {
        ':holder': holder,
        ':now': now.toISOString(),
        ...(record.lastOrphanScanAt ? { ':scan': record.lastOrphanScanAt } : {}),
        ...(record.lastFleetAuditAt ? { ':audit': record.lastFleetAuditAt } : {}),
      },
    },
    'NONE',
  );
}

import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../adapters/dynamo';
import type { Deps } from '../shared/deps';
import { InstanceNotFoundError, messageOf } from '../shared/errors';
import type { Inventory, Machine, Snapshot, Volume } from '../providers/compute-provider';
import { listInstances, readInstance, type InstancePage } from './instance-queries';
import type { InstanceItem } from './instance';
import { describeOperation, type ExecutionView } from './operations-history';
import { readReservation, recentAuditRecords, type AuditRecord, type StoredReservation } from './reservation-release';

/** One part of a debug view: its value, or why it could not be read. */
export type Part<T> = T | { error: string };

/** What the provider says about an instance right now. */
export interface LiveProviderView {
  name: string;
  machine: Part<Machine | null>;
  volume: Part<Volume | null>;
  snapshots: Part<Snapshot[]>;
  inventory: Part<Inventory>;
}

/** `GET /v1/admin/instances/{id}`: everything an operator needs to debug one instance. */
export interface AdminInstanceView {
  instance: InstanceItem;
  currentExecution: Part<ExecutionView> | null;
  reservation: StoredReservation | null;
  provider: LiveProviderView;
}

/** `GET /v1/admin/owners/{owner}`: an owner's registry. */
export interface OwnerRegistryView {
  owner: string;
  instances: InstancePage;
  reservation: StoredReservation | null;
  quota: { activeInstances: number; limit: number };
  audit: AuditRecord[];
}

/** How many audit records the owner registry shows. */
const AUDIT_RECORDS_SHOWN = 20;

/** Run one read of a debug view; a failure becomes that part's `{ error }`, never the whole view's. */
async function part<T>(read: () => Promise<T>): Promise<Part<T>> {
  try {
    return await read();
  } catch (error) {
    return { error: messageOf(error) };
  }
}

/** The provider's live view of an instance; each call may fail on its own. */
async function liveProviderView(deps: Deps, item: InstanceItem): Promise<LiveProviderView> {
  const provider = (() => {
    try {
      return deps.providers.get(item.provider);
    } catch (error) {
      return error as Error;
    }
  })();
  if (provider instanceof Error) {
    const error = { error: messageOf(provider) };
    return { name: item.provider, machine: error, volume: error, snapshots: error, inventory: error };
  }
  const { machineId, volumeId } = item;
  const [machine, volume, snapshots, inventory] = await Promise.all([
    part(async () => (machineId ? provider.getMachine(machineId) : null)),
    part(async () => (volumeId ? provider.getVolume(volumeId) : null)),
    part(async () => (volumeId ? provider.listSnapshots(volumeId) : [])),
    part(() => provider.inventory({ owner: item.owner, instance: item.instanceId })),
  ]);
  return { name: provider.name, machine, volume, snapshots, inventory };
}

/**
 * Debug state of any instance, tombstones included: the stored item as is, the execution holding
 * its claim, its owner's reservation and what the provider reports now.
 */
export async function adminInstanceView(deps: Deps, instanceId: string): Promise<AdminInstanceView> {
  const item = await readInstance(deps, instanceId);
  if (!item) throw new InstanceNotFoundError(instanceId);
  const claim = item.claim;
  const [currentExecution, reservation, provider] = await Promise.all([
    claim && item.operation ? part(() => describeOperation(deps, { kind: item.operation!, executionName: claim })) : Promise.resolve(null),
    readReservation(deps, item.owner),
    liveProviderView(deps, item),
  ]);
  return { instance: item, currentExecution, reservation, provider };
}

/** An owner's registry: instances incl. tombstones (paged), reservation, quota and recent operator actions. */
export async function ownerRegistry(deps: Deps, owner: string, page: { limit: number; cursor?: string }): Promise<OwnerRegistryView> {
  const [instances, reservation, ownerItem, audit] = await Promise.all([
    listInstances(deps, owner, { ...page, includeTombstones: true }),
    readReservation(deps, owner),
    deps.db.send(new GetCommand({ TableName: deps.tableName, Key: keys.owner(owner), ConsistentRead: true })),
    recentAuditRecords(deps, owner, AUDIT_RECORDS_SHOWN),
  ]);
  const counters = ownerItem.Item as { activeInstances?: number; instanceLimit?: number } | undefined;
  return {
    owner,
    instances,
    reservation,
    quota: { activeInstances: counters?.activeInstances ?? 0, limit: counters?.instanceLimit ?? deps.settings.defaultInstanceLimit },
    audit,
  };
}

import { cancelRequestSchema } from '../domain/cancel-request';
import * as z from 'zod';
import type { Deps } from '../composition/deps';
import { messageOf } from '../shared/errors/core';
import { InstanceNotFoundError } from '../shared/errors/refusals';
import type { Inventory, Machine, Snapshot, Volume } from '../providers/compute-provider';
import { auditRecordSchema, recentAuditRecords } from '../domain/audit';
import { errorRecordSchema, INSTANCE_STATUSES, instanceViewSchema, OPERATION_NAMES, operationRecordSchema, RECOVERY_TRIGGERS, type InstanceItem } from '../domain/instance';
import { ERROR_FIELDS } from '../operations/registry';
import { listInstances, readInstance } from './instance-queries';
import { describeOperation, executionViewSchema, type ExecutionView } from './operations-history';
import { quotaSchema } from '../domain/owner';
import { quotaOf, readOwnerItem, readReservation, reservationOf, reservationSchema, type ReservationItem } from '../domain/reservation';
import { retainedVolumeSchema, retainedVolumesById, type RetainedVolume } from '../domain/retained-volume';
import { lifecycleEventSchema } from '../shared/event-schema';
import type { LifecycleEvent } from '../shared/events';

/** A recovery in flight as the instance records it (`PendingRecovery`). */
const pendingRecoverySchema = z
  .object({
    trigger: z.enum(RECOVERY_TRIGGERS),
    reason: z.string(),
    sourceMachineId: z.string().nullable(),
    sourceVolumeId: z.string(),
    sourceVolumeName: z.string(),
    volumeName: z.string().meta({ description: 'Recorded before the replacement volume is created' }),
    excludedVolumeIds: z.array(z.string()).meta({ description: 'Tagged volumes that existed before the fork: never adopted as the replacement' }),
    volumeId: z.string().optional(),
    machineId: z.string().optional(),
    cutOverAt: z.string().optional(),
    retained: z.boolean().optional(),
    snapshotCount: z.number().int().optional(),
    startedAt: z.string(),
  })
  .meta({ id: 'PendingRecovery' });

/** The instance item exactly as stored (every attribute, keys included), for operators. */
const storedInstanceSchema = z
  .looseObject({
    instanceId: z.string(),
    owner: z.string(),
    status: z.enum(INSTANCE_STATUSES),
    provider: z.string(),
    version: z.number().int(),
    claim: z.string().optional(),
    operation: z.enum(OPERATION_NAMES).optional(),
    lastClaim: z.string().optional(),
    machineId: z.string().optional(),
    volumeId: z.string().optional(),
    operations: z.array(operationRecordSchema).optional(),
    // Every operation's error field, from the registry (lastSwitchError was missing when written by hand).
    ...Object.fromEntries(ERROR_FIELDS.map((field) => [field, errorRecordSchema.optional()])),
    lastRecoveredAt: z.string().optional(),
    recoveryCooldownUntil: z.string().optional(),
    recovery: pendingRecoverySchema.optional(),
    cancelRequest: cancelRequestSchema.optional().meta({ description: 'The last cancel its owner asked for; it concerns the claim only while it names the claim' }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'StoredInstance', description: 'The instance item exactly as stored (every attribute, including keys)' });


/** A part of a debug view that could not be read; the rest of the view still answers. */
const partErrorSchema = z.object({ error: z.string() }).meta({ id: 'PartError' });
/** One part of a debug view: its value, or why it could not be read. */
export type Part<T> = T | { error: string };
/** A debug-view part's schema: the value, or the error reading it. */
const partOf = <S extends z.ZodType>(schema: S) => z.union([schema, partErrorSchema]);

const machineSchema = z.looseObject({ id: z.string(), state: z.string(), mount: z.object({ volumeId: z.string(), path: z.string() }).nullable() }).meta({ id: 'ProviderMachine' });
const volumeSchema = z.looseObject({ id: z.string(), state: z.string(), attachedMachineId: z.string().nullable() }).meta({ id: 'ProviderVolume' });
const snapshotSchema = z.looseObject({ id: z.string(), volumeId: z.string(), createdAt: z.string() }).meta({ id: 'ProviderSnapshot' });

/** `GET /v1/admin/instances/{id}`: everything an operator needs to debug one instance. */
export const adminInstanceViewSchema = z
  .object({
    instance: storedInstanceSchema,
    currentExecution: partOf(executionViewSchema).nullable().meta({ description: 'The execution holding the claim; null when idle' }),
    reservation: reservationSchema.nullable(),
    provider: z.object({
      name: z.string(),
      machine: partOf(machineSchema.nullable()),
      volume: partOf(volumeSchema.nullable()),
      snapshots: partOf(z.array(snapshotSchema)),
      inventory: partOf(z.object({ machines: z.array(machineSchema), volumes: z.array(volumeSchema) })),
    }),
    retainedVolumes: partOf(z.array(retainedVolumeSchema)).meta({
      description: "Volumes kept after this instance's recoveries or switches that its providers still hold, with retainUntil, why and their cleanup state",
    }),
    events: z.array(lifecycleEventSchema).nullable().meta({ description: "This instance's recent lifecycle events where the runtime keeps them (the local world); null on AWS, where they go to the EventBridge bus" }),
  })
  .meta({ id: 'AdminInstanceView' });

/** What the provider says about an instance right now. */
export interface LiveProviderView {
  name: string;
  machine: Part<Machine | null>;
  volume: Part<Volume | null>;
  snapshots: Part<Snapshot[]>;
  inventory: Part<Inventory>;
}

/** The debug view as built (the schema above documents it; provider objects carry more fields). */
export interface AdminInstanceView {
  instance: InstanceItem;
  currentExecution: Part<ExecutionView> | null;
  reservation: ReservationItem | null;
  provider: LiveProviderView;
  retainedVolumes: Part<RetainedVolume[]>;
  events: LifecycleEvent[] | null;
}

/** `GET /v1/admin/owners/{owner}`: an owner's registry. */
export const ownerRegistrySchema = z
  .object({
    owner: z.string(),
    instances: z.object({ items: z.array(instanceViewSchema).meta({ description: 'Newest first, tombstones included' }), nextCursor: z.string().nullable() }),
    reservation: reservationSchema.nullable(),
    quota: quotaSchema,
    audit: z.array(auditRecordSchema).meta({ description: 'Most recent operator actions, newest first' }),
  })
  .meta({ id: 'OwnerRegistry' });
export type OwnerRegistryView = z.infer<typeof ownerRegistrySchema>;

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
  const [currentExecution, reservation, provider, retainedVolumes] = await Promise.all([
    claim && item.operation ? part(() => describeOperation(deps, { kind: item.operation!, executionName: claim })) : Promise.resolve(null),
    readReservation(deps, item.owner),
    liveProviderView(deps, item),
    part(() => retainedVolumesOf(deps, item)),
  ]);
  return { instance: item, currentExecution, reservation, provider, retainedVolumes, events: deps.events.recent?.({ instanceId }) ?? null };
}

/**
 * The retained volumes of an instance: the volumes every configured provider holds for it, looked up
 * by id among the retained-volume items (an instance that switched keeps its old volume on the old
 * provider). Soonest `retainUntil` first.
 */
async function retainedVolumesOf(deps: Deps, item: InstanceItem): Promise<RetainedVolume[]> {
  const volumes = await Promise.all(deps.providers.all().map((provider) => provider.findVolumes({ instance: item.instanceId }).catch(() => [])));
  const found = await retainedVolumesById(deps, volumes.flat().map((volume) => volume.id));
  return [...found.values()].filter((volume) => volume.instanceId === item.instanceId).sort((a, b) => a.retainUntil.localeCompare(b.retainUntil));
}

/** An owner's registry: instances incl. tombstones (paged), reservation, quota and recent operator actions. */
export async function ownerRegistry(deps: Deps, owner: string, page: { limit: number; cursor?: string }): Promise<OwnerRegistryView> {
  // Reservation and quota are one item.
  const [instances, ownerItem, audit] = await Promise.all([
    listInstances(deps, owner, { ...page, includeTombstones: true }),
    readOwnerItem(deps, owner),
    recentAuditRecords(deps, owner, AUDIT_RECORDS_SHOWN),
  ]);
  return { owner, instances, reservation: reservationOf(ownerItem), quota: quotaOf(deps, ownerItem), audit };
}

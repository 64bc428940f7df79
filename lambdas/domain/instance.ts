import * as z from 'zod';
import { publicMessage } from '../shared/errors';
import { OPERATIONS, type Operation } from '../shared/operations';

/** Every status an instance can have (ARCHITECTURE §3). */
export const INSTANCE_STATUSES = [
  'provisioning',
  'starting',
  'running',
  'stopping',
  'stopped',
  'restarting',
  'recovering',
  'switching',
  'destroying',
  'destroyed',
  'failed',
] as const;
export type InstanceStatus = (typeof INSTANCE_STATUSES)[number];

export { OPERATIONS, type Operation };

/** A recorded failure; callers see its message without stack frames or file paths (operators see it as stored). */
export const errorRecordSchema = z.object({ message: z.string(), code: z.string().optional(), at: z.string() }).meta({ id: 'ErrorRecord' });
export type ErrorRecord = z.infer<typeof errorRecordSchema>;


/** The instance item as stored. */
export interface InstanceItem {
  pk: string;
  sk: string;
  type: 'instance';
  instanceId: string;
  owner: string;
  name: string;
  status: InstanceStatus;
  provider: string;
  region: string;
  size: string;
  image: string;
  volumeSizeGb: number;
  machineId?: string;
  volumeId?: string;
  endpoint?: string;
  /** Execution name of the operation that holds the instance; absent when idle. */
  claim?: string;
  /** The operation that holds (or last held) the claim. */
  operation?: Operation;
  /** The last execution that held the claim, so a replayed final step can tell it already ran. */
  lastClaim?: string;
  /** Counts claims; part of every execution name. */
  version: number;
  lastStartError?: ErrorRecord;
  lastDestroyError?: ErrorRecord;
  lastRecoveryError?: ErrorRecord;
  lastStopError?: ErrorRecord;
  restartingAt?: string;
  /** Failed cleanups of a failed provision so far (the sweep gives up after `reconcileMaxTries`). */
  reconcileTries?: number;
  /** When the sweep gave up on the cleanup and left it to an operator. */
  cleanupExhaustedAt?: string;
  lastCleanupError?: ErrorRecord;
  /** True while the instance holds one of its owner's quota slots (cleared exactly once). */
  countsTowardQuota?: boolean;
  /** Hash of the admitting request (owner and body): the instance is its Idempotency-Key's record. */
  requestHash?: string;
  /** The instance's recent operations, newest last, for `GET …/operations` (bounded). */
  operations?: OperationRecord[];
  createdAt: string;
  updatedAt: string;
  expiresAt?: number;
}

/** One operation an instance ran: which workflow and which execution. */
export const operationRecordSchema = z.object({ kind: z.enum(OPERATIONS), executionName: z.string(), requestedAt: z.string() });
export type OperationRecord = z.infer<typeof operationRecordSchema>;

/** The deterministic execution name of an operation (ARCHITECTURE §6). */
export function executionName(instanceId: string, operation: Operation, version: number): string {
  return `${instanceId}-${operation}-v${version}`;
}

/** The instance as callers see it. */
export const instanceViewSchema = z
  .object({
    id: z.string(),
    owner: z.string(),
    name: z.string(),
    status: z.enum(INSTANCE_STATUSES),
    provider: z.string(),
    region: z.string(),
    size: z.string(),
    image: z.string(),
    volumeSizeGb: z.number().int(),
    machineId: z.string().nullable(),
    volumeId: z.string().nullable(),
    endpoint: z.string().nullable(),
    currentOperation: z.object({ kind: z.enum(OPERATIONS), executionName: z.string() }).nullable(),
    lastStartError: errorRecordSchema.nullable(),
    lastDestroyError: errorRecordSchema.nullable(),
    lastRecoveryError: errorRecordSchema.nullable(),
    lastStopError: errorRecordSchema.nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Instance' });
export type InstanceView = z.infer<typeof instanceViewSchema>;

/** The instance item exactly as stored (every attribute, keys included), for operators. */
export const storedInstanceSchema = z
  .looseObject({
    instanceId: z.string(),
    owner: z.string(),
    status: z.enum(INSTANCE_STATUSES),
    provider: z.string(),
    version: z.number().int(),
    claim: z.string().optional(),
    operation: z.enum(OPERATIONS).optional(),
    lastClaim: z.string().optional(),
    machineId: z.string().optional(),
    volumeId: z.string().optional(),
    operations: z.array(operationRecordSchema).optional(),
    lastStartError: errorRecordSchema.optional(),
    lastDestroyError: errorRecordSchema.optional(),
    lastRecoveryError: errorRecordSchema.optional(),
    lastStopError: errorRecordSchema.optional(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'StoredInstance', description: 'The instance item exactly as stored (every attribute, including keys)' });

/** A stored error as callers see it. */
function publicError(error: ErrorRecord | undefined): ErrorRecord | null {
  return error ? { ...error, message: publicMessage(error.message) } : null;
}

/** Map a stored item to its public view (errors without stack frames or server paths). */
export function toInstanceView(item: InstanceItem): InstanceView {
  return {
    id: item.instanceId,
    owner: item.owner,
    name: item.name,
    status: item.status,
    provider: item.provider,
    region: item.region,
    size: item.size,
    image: item.image,
    volumeSizeGb: item.volumeSizeGb,
    machineId: item.machineId ?? null,
    volumeId: item.volumeId ?? null,
    endpoint: item.endpoint ?? null,
    currentOperation: item.claim && item.operation ? { kind: item.operation, executionName: item.claim } : null,
    lastStartError: publicError(item.lastStartError),
    lastDestroyError: publicError(item.lastDestroyError),
    lastRecoveryError: publicError(item.lastRecoveryError),
    lastStopError: publicError(item.lastStopError),
    createdAt: item.createdAt,
    updatedAt: item.updatedAt,
  };
}

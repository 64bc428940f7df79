import * as z from 'zod';
import { publicMessage } from '../shared/errors/core';
import { OPERATION_NAMES, type Operation } from '../operations/registry';

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

export { OPERATION_NAMES, type Operation };

/** A recorded failure; callers see its message without stack frames or file paths (operators see it as stored). */
export const errorRecordSchema = /* @__PURE__ */ z.object({ message: z.string(), code: z.string().optional(), at: z.string() }).meta({ id: 'ErrorRecord' });
export type ErrorRecord = z.infer<typeof errorRecordSchema>;

/** Where a switch found the instance: what its rollback restores. */
export interface SwitchedFrom {
  provider: string;
  region: string;
  size: string;
  machineId?: string;
  volumeId?: string;
  /** The status before the switch, restored by a rollback (and kept by a commit). */
  status: 'running' | 'stopped';
}

/** Why a recovery was started: the sweep saw an unrequested exit, or an operator forced one. */
export const RECOVERY_TRIGGERS = ['unexpected-exit', 'operator'] as const;
export type RecoveryTrigger = (typeof RECOVERY_TRIGGERS)[number];

/**
 * A recovery in flight, recorded on the instance under its claim: what it replaces and what it has
 * made so far. The replacement volume's name is written before the volume is created, its id right
 * after, so a retried step or a sweep finds it, reuses it and never takes it for an orphan. (Its
 * schema, for operators, is `pendingRecoverySchema` in `operator-views.ts`: step bundles carry no
 * schema they never parse.)
 */
export interface PendingRecovery {
  trigger: RecoveryTrigger;
  reason: string;
  sourceMachineId: string | null;
  sourceVolumeId: string;
  sourceVolumeName: string;
  /** The replacement volume's name (a fork carries its instance's volume name, which is how Fly tells whose it is). */
  volumeName: string;
  /** Tagged volumes of the instance that existed before the fork: never adopted as the replacement. */
  excludedVolumeIds: string[];
  volumeId?: string;
  machineId?: string;
  /** Set by the cut-over: from then on the instance is on the replacement, and a failure rolls forward. */
  cutOverAt?: string;
  /** Whether the cut-over retained the old volume (it had snapshots); else it is deleted at once. */
  retained?: boolean;
  snapshotCount?: number;
  startedAt: string;
}

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
  /** The last provider switch that failed (rolled back). */
  lastSwitchError?: ErrorRecord;
  lastSwitchedAt?: string;
  /** What the switch that holds the claim was asked to do (recorded with its pre-claim). */
  switchTarget?: { provider: string; region: string; size: string; data: 'copy' | 'fresh'; fromStatus: 'running' | 'stopped' };
  /** Where a switch moved the instance from, recorded by its provider write; gone once it commits or rolls back. */
  switchingFrom?: SwitchedFrom;
  /** When a recovery last moved the instance onto a new machine and volume. */
  lastRecoveredAt?: string;
  /** No recovery starts by itself before this (a recovery's outcome sets it: no retry storm). */
  recoveryCooldownUntil?: string;
  /** The recovery in flight (only while a `recover` claim holds the instance). */
  recovery?: PendingRecovery;
  restartingAt?: string;
  /** The last cancel an owner asked for (`DELETE …/operations/{name}`); it concerns the claim only while its executionName is the claim. */
  cancelRequest?: { executionName: string; requestedBy: string; requestedAt: string };
  /**
   * The volume create an attempt is about to send (`<provider>:v<generation>`), written before it:
   * a retry that finds it knows an earlier attempt may have made a volume a lagging list hides.
   */
  volumeCreateAttempt?: string;
  /** Failed cleanups of a failed provision so far (the sweep gives up after `reconcileMaxTries`). */
  reconcileTries?: number;
  /** When the sweep gave up on the cleanup and left it to an operator. */
  cleanupExhaustedAt?: string;
  lastCleanupError?: ErrorRecord;
  /** Failed (or lost) destroys so far: the sweep retries with backoff and parks it after `reconcileMaxTries`. */
  destroyTries?: number;
  /** When the sweep gave up retrying the destroy and left it to an operator (alarm DestroyParked; its quota slot freed then). */
  destroyParkedAt?: string;
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
export const operationRecordSchema = /* @__PURE__ */ z.object({ kind: z.enum(OPERATION_NAMES), executionName: z.string(), requestedAt: z.string() });
export type OperationRecord = z.infer<typeof operationRecordSchema>;

/** The deterministic execution name of an operation (ARCHITECTURE §6). */
export function executionName(instanceId: string, operation: Operation, version: number): string {
  return `${instanceId}-${operation}-v${version}`;
}

/** The instance as callers see it. */
export const instanceViewSchema = /* @__PURE__ */ z
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
    currentOperation: z.object({ kind: z.enum(OPERATION_NAMES), executionName: z.string() }).nullable(),
    lastStartError: errorRecordSchema.nullable(),
    lastDestroyError: errorRecordSchema.nullable(),
    lastRecoveryError: errorRecordSchema.nullable(),
    lastStopError: errorRecordSchema.nullable(),
    lastSwitchError: errorRecordSchema.nullable(),
    lastSwitchedAt: z.string().nullable(),
    lastRecoveredAt: z.string().nullable().meta({ description: 'When a recovery last moved the instance onto a new machine and volume' }),
    recoveryCooldownUntil: z.string().nullable().meta({ description: 'No automatic recovery starts before this (after a recovery, successful or not)' }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Instance' });
export type InstanceView = z.infer<typeof instanceViewSchema>;

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
    lastSwitchError: publicError(item.lastSwitchError),
    lastSwitchedAt: item.lastSwitchedAt ?? null,
    lastRecoveredAt: item.lastRecoveredAt ?? null,
    recoveryCooldownUntil: item.recoveryCooldownUntil ?? null,
    createdAt: item.createdAt,
    updatedAt: item.updatedAt,
  };
}

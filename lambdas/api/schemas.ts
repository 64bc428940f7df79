import { z } from '@hono/zod-openapi';
import { INSTANCE_STATUSES, OPERATIONS } from '../domain/instance';
import { ownerSchema } from '../domain/owner';
import { EXECUTION_STATUSES } from '../domain/operations-history';

/** Response and parameter schemas of the HTTP API; the OpenAPI document is generated from them. */

const errorRecord = z.object({ message: z.string(), code: z.string().optional(), at: z.string() }).nullable();

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
    lastStartError: errorRecord,
    lastDestroyError: errorRecord,
    lastRecoveryError: errorRecord,
    lastStopError: errorRecord,
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Instance');

export const admissionSchema = z
  .object({
    instance: instanceViewSchema,
    operation: z.object({ kind: z.literal('provision'), executionName: z.string(), executionArn: z.string() }),
  })
  .openapi('Admission');

export const instancePageSchema = z.object({ items: z.array(instanceViewSchema), nextCursor: z.string().nullable() }).openapi('InstancePage');

export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string(),
    instance: z.string().optional(),
  })
  .passthrough()
  .openapi('Problem');

export const instanceIdParamSchema = z.object({
  id: z.string().regex(/^i-[0-9a-z]{26}$/, 'an instance id such as i-01j…').openapi({ param: { name: 'id', in: 'path' } }),
});

export const ownerQuerySchema = z.strictObject({
  owner: ownerSchema.optional().openapi({ description: 'Act for this owner (user:<you> or an org your token lists); defaults to you.' }),
});

export const listQuerySchema = z.strictObject({
  owner: ownerSchema.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(2048).optional(),
});

export const idempotencyHeaderSchema = z.object({
  'idempotency-key': z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{8,128}$/, '8-128 characters: letters, digits, _ . : -')
    .openapi({ description: 'Required. The same key and body replay the original answer; the same key with another body is refused (422).' }),
});

/** Problem responses every authenticated route may give. */
export const problemResponses = {
  400: { description: 'Invalid request', content: { 'application/problem+json': { schema: problemSchema } } },
  401: { description: 'Missing or invalid token', content: { 'application/problem+json': { schema: problemSchema } } },
  403: { description: 'Token lacks the scope or owner', content: { 'application/problem+json': { schema: problemSchema } } },
} as const;

/** A problem response for one status. */
export function problemResponse(description: string) {
  return { description, content: { 'application/problem+json': { schema: problemSchema } } } as const;
}

export const operationAcceptedSchema = z
  .object({
    instance: instanceViewSchema,
    operation: z.object({ kind: z.enum(['start', 'stop', 'restart', 'destroy']), executionName: z.string(), executionArn: z.string() }),
  })
  .openapi('OperationAccepted');

// ── Operations history and operator (admin) views ───────────────────────────────────────────

export const executionViewSchema = z
  .object({
    name: z.string().openapi({ description: 'Execution name: <instanceId>-<operation>-v<version>' }),
    kind: z.enum(OPERATIONS),
    executionArn: z.string().nullable(),
    status: z.enum(EXECUTION_STATUSES).openapi({ description: 'Step Functions status; PENDING: claimed but not started yet; UNKNOWN: no workflow configured for the kind' }),
    requestedAt: z.string().nullable(),
    startedAt: z.string().nullable(),
    stoppedAt: z.string().nullable(),
    error: z.string().nullable(),
    cause: z.string().nullable(),
    consoleUrl: z.string().nullable().openapi({ description: 'Step Functions console link (AWS only)' }),
  })
  .openapi('Execution');

export const operationsPageSchema = z
  .object({ instanceId: z.string(), items: z.array(executionViewSchema).openapi({ description: 'Newest first' }) })
  .openapi('OperationsPage');

/** A part of a debug view that could not be read; the rest of the view still answers. */
const partErrorSchema = z.object({ error: z.string() }).openapi('PartError');

const operationRecordSchema = z.object({ kind: z.enum(OPERATIONS), executionName: z.string(), requestedAt: z.string() });

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
    lastStartError: errorRecord.optional(),
    lastDestroyError: errorRecord.optional(),
    lastRecoveryError: errorRecord.optional(),
    lastStopError: errorRecord.optional(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('StoredInstance', { description: 'The instance item exactly as stored (every attribute, including keys)' });

export const reservationSchema = z
  .looseObject({
    owner: z.string(),
    status: z.enum(['admitted', 'provider_work_started', 'completed', 'released', 'needs_reconciliation']),
    version: z.number().int().openapi({ description: 'The fencing token' }),
    instanceId: z.string(),
    executionName: z.string(),
    deadline: z.string(),
    updatedAt: z.string(),
    releasedBy: z.string().optional(),
    releasedAt: z.string().optional(),
    releaseReason: z.string().optional(),
  })
  .openapi('Reservation', { description: 'The owner reservation item as stored' });

export const auditRecordSchema = z
  .object({
    id: z.string(),
    owner: z.string(),
    action: z.enum(['reservation.release', 'quota.set']),
    actor: z.string(),
    reason: z.string(),
    at: z.string(),
    before: z.record(z.string(), z.unknown()).openapi({ description: 'What the action changed, as it was before' }),
  })
  .openapi('AuditRecord');

const machineSchema = z.looseObject({ id: z.string(), state: z.string(), mount: z.object({ volumeId: z.string(), path: z.string() }).nullable() }).openapi('ProviderMachine');
const volumeSchema = z.looseObject({ id: z.string(), state: z.string(), attachedMachineId: z.string().nullable() }).openapi('ProviderVolume');
const snapshotSchema = z.looseObject({ id: z.string(), volumeId: z.string(), createdAt: z.string() }).openapi('ProviderSnapshot');

export const adminInstanceViewSchema = z
  .object({
    instance: storedInstanceSchema,
    currentExecution: z.union([executionViewSchema, partErrorSchema]).nullable().openapi({ description: 'The execution holding the claim; null when idle' }),
    reservation: reservationSchema.nullable(),
    provider: z.object({
      name: z.string(),
      machine: z.union([machineSchema, partErrorSchema]).nullable(),
      volume: z.union([volumeSchema, partErrorSchema]).nullable(),
      snapshots: z.union([z.array(snapshotSchema), partErrorSchema]),
      inventory: z.union([z.object({ machines: z.array(machineSchema), volumes: z.array(volumeSchema) }), partErrorSchema]),
    }),
  })
  .openapi('AdminInstanceView');

export const ownerParamSchema = z.object({
  owner: ownerSchema.openapi({ param: { name: 'owner', in: 'path' }, example: 'user:alice' }),
});

export const registryQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(2048).optional(),
});

export const ownerRegistrySchema = z
  .object({
    owner: z.string(),
    instances: z.object({ items: z.array(instanceViewSchema).openapi({ description: 'Newest first, tombstones included' }), nextCursor: z.string().nullable() }),
    reservation: reservationSchema.nullable(),
    quota: z.object({ activeInstances: z.number().int(), limit: z.number().int() }),
    audit: z.array(auditRecordSchema).openapi({ description: 'Most recent operator actions, newest first' }),
  })
  .openapi('OwnerRegistry');

export const reservationReleaseSchema = z.object({ reservation: reservationSchema, audit: auditRecordSchema }).openapi('ReservationRelease');

export const quotaSchema = z.object({ owner: z.string(), activeInstances: z.number().int(), limit: z.number().int(), audit: auditRecordSchema }).openapi('OwnerQuota');

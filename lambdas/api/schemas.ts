import { z } from '@hono/zod-openapi';
import { INSTANCE_STATUSES, OPERATIONS } from '../domain/instance';
import { ownerSchema } from '../domain/owner';

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

/**
 * The HTTP-only shapes of the API: path and query parameters, headers and problem details.
 * Response bodies are the domain's own schemas (`instanceViewSchema`, `admissionResultSchema`, …),
 * defined once where their types are inferred. Names and descriptions use zod 4's native metadata
 * (`.meta()`), which the OpenAPI generator reads from zod's own registry: no schema here depends on
 * which module loaded the OpenAPI extension first.
 */
import * as z from 'zod';
import { LISTABLE_STATUSES, MAX_WAIT_SECONDS } from '../views/executions';
import { ownerSchema } from '../domain/owner';
import { INSTANCE_STATUSES, type InstanceStatus } from '../domain/instance';
import { instanceNameSchema } from '../operations/provision/request';
import { WORKFLOW_NAMES } from '../shared/workflows';
import { pageLimit } from '../shared/query-params';

/** RFC 9457 problem details, with a stable machine-readable `code`. */
export const problemSchema = z
  .looseObject({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string(),
    instance: z.string().optional(),
  })
  .meta({ id: 'Problem' });

/** An instance id. */
const instanceIdSchema = z.string().regex(/^i-[0-9a-z]{26}$/, 'an instance id such as i-01j…');

export const instanceIdParamSchema = z.object({
  id: instanceIdSchema.meta({ param: { name: 'id', in: 'path' } }),
});

export const ownerQuerySchema = z.strictObject({
  owner: ownerSchema.optional().meta({ description: 'Act for this owner (user:<you> or an org your token lists); defaults to you.' }),
});

export const listQuerySchema = z.strictObject({
  owner: ownerSchema.optional(),
  status: z.enum(INSTANCE_STATUSES.filter((status) => status !== 'destroyed') as [InstanceStatus, ...InstanceStatus[]]).optional().meta({ description: 'Only instances in this status' }),
  provider: z.string().min(1).max(64).optional().meta({ description: 'Only instances on this provider' }),
  name: instanceNameSchema.optional().meta({ description: 'Only the instance with this name (names are unique among an owner’s live instances)' }),
  limit: pageLimit(20, 100),
  cursor: z.string().max(2048).optional(),
});

export const idempotencyHeaderSchema = z.object({
  'idempotency-key': z
    .string({ error: (issue) => (issue.input === undefined ? 'required: send an Idempotency-Key header (the same key makes a retry safe)' : undefined) })
    .regex(/^[A-Za-z0-9_.:-]{8,128}$/, '8-128 characters: letters, digits, _ . : -')
    .meta({ description: 'Required. The same key and body replay the original answer; the same key with another body is refused (422).' }),
});

export const ownerParamSchema = z.object({
  owner: ownerSchema.meta({ param: { name: 'owner', in: 'path' }, example: 'user:alice' }),
});

export const registryQuerySchema = z.strictObject({
  limit: pageLimit(20, 100),
  cursor: z.string().max(2048).optional(),
});

/** A problem response for one status. */
export function problemResponse(description: string) {
  return { description, content: { 'application/problem+json': { schema: problemSchema } } } as const;
}

/** An execution name as Step Functions allows it. */
const executionNameSchema = z.string().regex(/^[0-9A-Za-z_-]{1,80}$/, 'an execution name such as i-01j…-provision-v1');

/** `/v1/instances/{id}/operations/{name}`. */
export const operationParamSchema = z.object({
  id: instanceIdSchema.meta({ param: { name: 'id', in: 'path' } }),
  name: executionNameSchema.meta({ param: { name: 'name', in: 'path' } }),
});

/** `GET /v1/instances/{id}/operations`. */
export const operationsQuerySchema = z.strictObject({
  limit: pageLimit(50, 100),
  cursor: z.string().max(2048).optional(),
});

/** `GET /v1/instances/{id}/operations/{name}?wait=`. */
export const operationWaitQuerySchema = z.strictObject({
  wait: z
    .string()
    .regex(/^(0|[1-9][0-9]?)$/, `whole seconds, 0 to ${MAX_WAIT_SECONDS}`)
    .transform(Number)
    .pipe(z.number().int().min(0).max(MAX_WAIT_SECONDS))
    .optional()
    .meta({
      description: `Hold the request until the operation ends or this many seconds (0 to ${MAX_WAIT_SECONDS}) pass, then answer its state either way: read execution.status (RUNNING or PENDING when the wait ran out)`,
      type: 'integer',
      minimum: 0,
      maximum: MAX_WAIT_SECONDS,
    }),
});

/** `/v1/admin/executions/{workflow}/{name}`. */
export const executionParamSchema = z.object({
  workflow: z.enum(WORKFLOW_NAMES).meta({ param: { name: 'workflow', in: 'path' } }),
  name: executionNameSchema.meta({ param: { name: 'name', in: 'path' } }),
});

/**
 * Cursors of listings that merge several sources carry one position per source (a Step Functions
 * token per workflow, an index key per attention shard), so they may be longer than others.
 */
const mergedCursorSchema = z.string().max(8192).optional();

export const executionsQuerySchema = z.strictObject({
  workflow: z.enum(WORKFLOW_NAMES).optional().meta({ description: 'Only this workflow (operation)' }),
  status: z.enum(LISTABLE_STATUSES).optional(),
  instanceId: instanceIdSchema.optional().meta({ description: "Only this instance's executions (from its operations log)" }),
  limit: pageLimit(50, 100),
  cursor: mergedCursorSchema,
});

export const historyQuerySchema = z.strictObject({
  limit: pageLimit(200, 1000),
  reverse: z.enum(['true', 'false']).default('false').transform((value) => value === 'true').meta({ description: 'Newest event first' }),
  cursor: z.string().max(4096).optional(),
});

export const attentionQuerySchema = z.strictObject({
  band: z.enum(['due', 'parked']).default('due').meta({ description: 'due: what the sweeps see as due now; parked: what is left for an operator' }),
  limit: pageLimit(50, 100),
  cursor: mergedCursorSchema,
});

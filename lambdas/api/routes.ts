/**
 * Every route of the HTTP API, as data: the app mounts these and `npm run build:openapi` documents
 * them. Response bodies are the domain's own schemas.
 */
import * as z from 'zod';
import { admissionResultSchema, provisionRequestSchema } from '../domain/admission';
import { instanceViewSchema } from '../domain/instance';
import { instancePageSchema } from '../domain/instance-queries';
import type { LifecycleOperation } from '../domain/claims';
import { operationAcceptedSchema } from '../domain/lifecycle';
import { switchRequestSchema } from '../domain/switch-provider';
import { operationsPageSchema } from '../domain/operations-history';
import { adminInstanceViewSchema, ownerRegistrySchema } from '../domain/operator-views';
import { quotaChangeSchema, setQuotaRequestSchema } from '../domain/owner';
import { releaseRequestSchema, releaseResultSchema } from '../domain/reservation';
import { settleRequestSchema, settleResultSchema, sweepRequestSchema, SWEEP_NAMES } from '../domain/reconcile/operator';
import { attentionPageSchema } from '../domain/attention-view';
import { executionDetailSchema, executionsPageSchema, historyPageSchema, operationProgressSchema } from '../domain/executions';
import { sweepReportSchema } from '../domain/reconcile/reconcile';
import { recoverAcceptedSchema, recoverRequestSchema } from '../domain/recovery-requests';
import { deleteVolumeQuerySchema, listVolumesQuerySchema, volumeDeletedSchema, volumesPageSchema } from '../domain/volume-cleanup';
import { providerOfferingSchema } from '../shared/providers-config';
import { consoleManifestSchema } from './console/manifest';
import { defineRoute, type ResponseSpec } from './route';
import {
  attentionQuerySchema,
  executionParamSchema,
  executionsQuerySchema,
  historyQuerySchema,
  idempotencyHeaderSchema,
  instanceIdParamSchema,
  listQuerySchema,
  operationParamSchema,
  ownerParamSchema,
  ownerQuerySchema,
  registryQuerySchema,
} from './schemas';

/** `GET /v1/providers`. */
const providersPageSchema = z.object({ default: z.string().nullable(), items: z.array(providerOfferingSchema) }).meta({ id: 'Providers' });

/** `/healthz`: each probed dependency, up or down. */
const healthChecksSchema = z.record(z.string(), z.enum(['up', 'down'])).meta({ description: 'Each dependency probed (table, workflows): up, or down when it failed or did not answer in 2 s' });

/** A problem response for one status. */
const problem = (description: string): ResponseSpec => ({ description, problem: true });

/** Problems every authenticated route may answer. */
const AUTHENTICATED = {
  400: problem('validation_failed, malformed_body or invalid_cursor'),
  401: problem('unauthorized: missing or invalid token'),
  403: problem('forbidden: the token lacks the scope or owner'),
  413: problem('payload_too_large: the body exceeds 64 KB'),
  415: problem('unsupported_media_type: the body is not application/json'),
} as const;

export const healthRoute = defineRoute({
  method: 'get',
  path: '/healthz',
  summary: 'Health: 200 when every dependency it probes (the table, the workflow service) answers within 2 s each',
  public: true,
  responses: {
    200: { description: 'Ready', schema: z.object({ status: z.literal('ok'), checks: healthChecksSchema.optional() }) },
    503: { description: 'A dependency is down (named in checks)', schema: z.object({ status: z.literal('unavailable'), checks: healthChecksSchema }) },
  },
});

export const createInstanceRoute = defineRoute({
  method: 'post',
  path: '/v1/instances',
  summary: 'Admit and start a provision',
  request: { headers: idempotencyHeaderSchema, query: ownerQuerySchema, body: provisionRequestSchema },
  responses: {
    202: { description: 'Admitted; the provision runs', schema: admissionResultSchema },
    ...AUTHENTICATED,
    409: problem('provision_in_progress (names the instance holding the reservation) or reconciliation_pending'),
    422: problem('idempotency_key_reused'),
    429: problem('quota_exceeded'),
    503: problem('contention or workflow_unavailable; retry with the same Idempotency-Key'),
  },
});

export const listInstancesRoute = defineRoute({
  method: 'get',
  path: '/v1/instances',
  summary: "List the caller's (or an org's) live instances, newest first",
  request: { query: listQuerySchema },
  responses: {
    200: { description: 'A page of instances', schema: instancePageSchema },
    ...AUTHENTICATED,
    404: problem('owner_not_found: the token may not act for that owner'),
  },
});

export const getInstanceRoute = defineRoute({
  method: 'get',
  path: '/v1/instances/{id}',
  summary: 'One instance, with its last errors and current operation',
  request: { params: instanceIdParamSchema },
  responses: { 200: { description: 'The instance', schema: instanceViewSchema }, ...AUTHENTICATED, 404: problem('instance_not_found') },
});

export const operationsRoute = defineRoute({
  method: 'get',
  path: '/v1/instances/{id}/operations',
  summary: "The instance's executions, newest first: kind, status, times, error and console link",
  request: { params: instanceIdParamSchema },
  responses: { 200: { description: 'Its executions', schema: operationsPageSchema }, ...AUTHENTICATED, 404: problem('instance_not_found') },
});

export const operationProgressRoute = defineRoute({
  method: 'get',
  path: '/v1/instances/{id}/operations/{name}',
  summary: 'One operation step by step (state, status, attempts, error in words), for following it; tombstoned instances too',
  request: { params: operationParamSchema },
  responses: {
    200: { description: 'Its execution and steps so far', schema: operationProgressSchema },
    ...AUTHENTICATED,
    404: problem('instance_not_found, or execution_not_found: no such operation of this instance'),
  },
});

/** A lifecycle route: claim first, then the workflow; the loser of a race gets 409 and causes nothing. */
function lifecycleRoute<const O extends LifecycleOperation>(operation: O) {
  return defineRoute({
    method: operation === 'destroy' ? 'delete' : 'post',
    path: operation === 'destroy' ? '/v1/instances/{id}' : `/v1/instances/{id}/${operation}`,
    summary: operation === 'destroy' ? 'Destroy the instance (machine and volume)' : `${operation.charAt(0).toUpperCase()}${operation.slice(1)} the instance`,
    request: { params: instanceIdParamSchema },
    responses: {
      202: { description: 'Claimed; the operation runs', schema: operationAcceptedSchema },
      ...AUTHENTICATED,
      404: problem('instance_not_found'),
      409: problem('instance_busy (another operation holds the claim) or invalid_state'),
      503: problem('workflow_unavailable; the claim was handed back, retry'),
    },
  });
}

export const lifecycleRoutes = {
  start: lifecycleRoute('start'),
  stop: lifecycleRoute('stop'),
  restart: lifecycleRoute('restart'),
  destroy: lifecycleRoute('destroy'),
};

export const switchProviderRoute = defineRoute({
  method: 'post',
  path: '/v1/instances/{id}/switch-provider',
  summary: 'Move the instance to another provider: stop, provider write, provision on the target, commit — or roll back',
  request: { params: instanceIdParamSchema, body: switchRequestSchema },
  responses: {
    202: { description: 'Pre-claimed; the switch runs (its critical section belongs to the execution, not this request)', schema: operationAcceptedSchema },
    ...AUTHENTICATED,
    400: problem('validation_failed, unknown_provider or unsupported_placement'),
    404: problem('instance_not_found'),
    409: problem('already_switching, instance_busy, provider_mismatch (expectedProvider is not its provider), same_provider or invalid_state; no provider call was made'),
    422: problem('data_transfer_unsupported: these providers cannot carry the volume data; ask for data "fresh"'),
    503: problem('workflow_unavailable; the claim was handed back, retry'),
  },
});

export const providersRoute = defineRoute({
  method: 'get',
  path: '/v1/providers',
  summary: 'The providers this deployment runs, with their regions and sizes, and the default one',
  responses: { 200: { description: 'Configured providers', schema: providersPageSchema }, ...AUTHENTICATED },
});

export const adminInstanceRoute = defineRoute({
  method: 'get',
  path: '/v1/admin/instances/{id}',
  summary: 'Debug state of any instance (tombstones too): stored item, current execution, reservation, live provider view',
  request: { params: instanceIdParamSchema },
  responses: {
    200: { description: 'The debug view; a provider part that fails reads `{ error }`', schema: adminInstanceViewSchema },
    ...AUTHENTICATED,
    404: problem('instance_not_found'),
  },
});

export const ownerRegistryRoute = defineRoute({
  method: 'get',
  path: '/v1/admin/owners/{owner}',
  summary: "An owner's registry: instances incl. tombstones, reservation, quota, recent operator actions",
  request: { params: ownerParamSchema, query: registryQuerySchema },
  responses: { 200: { description: 'The registry', schema: ownerRegistrySchema }, ...AUTHENTICATED },
});

export const releaseRoute = defineRoute({
  method: 'post',
  path: '/v1/admin/owners/{owner}/reservation/release',
  summary: "Operator escape hatch: release the owner's unresolved reservation (audited)",
  request: { params: ownerParamSchema, body: releaseRequestSchema },
  responses: {
    200: { description: 'Released; the audit record is stored with it', schema: releaseResultSchema },
    ...AUTHENTICATED,
    404: problem('reservation_not_found'),
    409: problem('execution_still_running (the provision still runs; wait) or reservation_not_releasable (completed or released already)'),
    503: problem('contention: the reservation kept changing; retry'),
  },
});

export const runSweepRoute = defineRoute({
  method: 'post',
  path: '/v1/admin/sweeps/{name}',
  summary: 'Run a sweep now; answers what it did, item by item (logged with the operator)',
  request: { params: z.object({ name: z.enum(SWEEP_NAMES).meta({ param: { name: 'name', in: 'path' } }) }), body: sweepRequestSchema, bodyOptional: true },
  responses: { 200: { description: 'What the run did', schema: sweepReportSchema }, ...AUTHENTICATED, 409: problem('sweep_running: another run holds the lease') },
});

export const settleInstanceRoute = defineRoute({
  method: 'post',
  path: '/v1/admin/instances/{id}/settle',
  summary: "Settle one instance now by the sweep's rules, whatever its due time (audited; a reason is required)",
  request: { params: instanceIdParamSchema, body: settleRequestSchema },
  responses: { 200: { description: 'What was done, with the audit record', schema: settleResultSchema }, ...AUTHENTICATED, 404: problem('instance_not_found') },
});

export const recoverInstanceRoute = defineRoute({
  method: 'post',
  path: '/v1/admin/instances/{id}/recover',
  summary: 'Force a recovery: a replacement volume forked from the old one and a new machine (audited; a reason is required; the cooldown does not apply)',
  request: { params: instanceIdParamSchema, body: recoverRequestSchema },
  responses: {
    202: { description: 'Claimed (`recovering`); the recovery runs', schema: recoverAcceptedSchema },
    ...AUTHENTICATED,
    404: problem('instance_not_found'),
    409: problem('instance_busy (another operation holds the claim) or invalid_state (only a running or stopped instance is recovered)'),
    503: problem('workflow_unavailable; the claim was handed back, retry'),
  },
});

export const listVolumesRoute = defineRoute({
  method: 'get',
  path: '/v1/admin/volumes',
  summary: 'Volumes kept after a recovery or a switch, by state (retained, ownership_unverified, cleanup_exhausted), soonest retainUntil first',
  request: { query: listVolumesQuerySchema },
  responses: { 200: { description: 'Kept volumes', schema: volumesPageSchema }, ...AUTHENTICATED },
});

export const deleteVolumeRoute = defineRoute({
  method: 'delete',
  path: '/v1/admin/volumes/{volumeId}',
  summary: 'Delete a retained volume before its date: ownership verified again, an attached machine of its instance destroyed first (audited; `?reason=` is required)',
  request: { params: z.object({ volumeId: z.string().min(1).max(100).meta({ param: { name: 'volumeId', in: 'path' } }) }), query: deleteVolumeQuerySchema },
  responses: {
    200: { description: 'Deleted (or already deleted: the audit is then null); the volume item as it is now', schema: volumeDeletedSchema },
    ...AUTHENTICATED,
    404: problem('volume_not_found'),
    409: problem('volume_in_use (an operation such as a recovery holds its instance, or another cleanup holds it) or volume_ownership_unverified (never deleted)'),
    502: problem('volume_delete_failed: the provider did not delete it; the try is counted'),
  },
});

export const quotaRoute = defineRoute({
  method: 'put',
  path: '/v1/admin/owners/{owner}/quota',
  summary: "Set an owner's instance limit (audited); the configured default applies until set",
  request: { params: ownerParamSchema, body: setQuotaRequestSchema },
  responses: { 200: { description: 'The new limit, with its audit record', schema: quotaChangeSchema }, ...AUTHENTICATED },
});

export const executionsRoute = defineRoute({
  method: 'get',
  path: '/v1/admin/executions',
  summary: "Every workflow's recent executions, newest first; by workflow, status or instance",
  request: { query: executionsQuerySchema },
  responses: { 200: { description: 'A page of executions', schema: executionsPageSchema }, ...AUTHENTICATED, 404: problem('instance_not_found (with instanceId)') },
});

export const executionRoute = defineRoute({
  method: 'get',
  path: '/v1/admin/executions/{workflow}/{name}',
  summary: 'One execution: status, input, output, error and cause, and the definition it ran',
  request: { params: executionParamSchema },
  responses: { 200: { description: 'The execution', schema: executionDetailSchema }, ...AUTHENTICATED, 404: problem('execution_not_found') },
});

export const executionHistoryRoute = defineRoute({
  method: 'get',
  path: '/v1/admin/executions/{workflow}/{name}/history',
  summary: "A page of the execution's history (GetExecutionHistory), oldest first unless reversed",
  request: { params: executionParamSchema, query: historyQuerySchema },
  responses: { 200: { description: 'History events', schema: historyPageSchema }, ...AUTHENTICATED, 404: problem('execution_not_found') },
});

export const attentionRoute = defineRoute({
  method: 'get',
  path: '/v1/admin/attention',
  summary: 'What the sweeps see as due now, or what is parked for an operator, from the attention index (never a Scan), oldest first',
  request: { query: attentionQuerySchema },
  responses: { 200: { description: 'A page of the attention index', schema: attentionPageSchema }, ...AUTHENTICATED },
});

export const consoleManifestRoute = defineRoute({
  method: 'get',
  path: '/v1/admin/console',
  summary: 'What the operator console may show and offer: workflows, execution statuses, escape hatches, attention subjects',
  responses: { 200: { description: 'The console manifest', schema: consoleManifestSchema }, ...AUTHENTICATED },
});

/** Every route, in the order the document lists them. */
export const ROUTES = [
  healthRoute,
  createInstanceRoute,
  listInstancesRoute,
  getInstanceRoute,
  operationsRoute,
  operationProgressRoute,
  ...Object.values(lifecycleRoutes),
  switchProviderRoute,
  providersRoute,
  adminInstanceRoute,
  ownerRegistryRoute,
  releaseRoute,
  quotaRoute,
  runSweepRoute,
  settleInstanceRoute,
  executionsRoute,
  executionRoute,
  executionHistoryRoute,
  attentionRoute,
  consoleManifestRoute,
  recoverInstanceRoute,
  listVolumesRoute,
  deleteVolumeRoute,
];

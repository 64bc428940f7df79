/**
 * Every route of the HTTP API, as data: the app mounts these and `npm run build:openapi` documents
 * them. Response bodies are the domain's own schemas.
 */
import * as z from 'zod';
import { admissionResultSchema, provisionRequestSchema } from '../operations/provision/request';
import { instanceViewSchema } from '../domain/instance';
import { instancePageSchema } from '../views/instance-queries';
import { LIFECYCLE_OPERATIONS, OPERATIONS, type LifecycleOperation } from '../operations/registry';
import { operationAcceptedSchema } from '../operations/lifecycle/request';
import { switchRequestSchema } from '../operations/switch/request';
import { operationsPageSchema } from '../views/operations-history';
import { cancellationSchema } from '../operations/cancel';
import { adminInstanceViewSchema, ownerRegistrySchema } from '../views/operator-views';
import { quotaChangeSchema, setQuotaRequestSchema } from '../domain/owner';
import { releaseRequestSchema, releaseResultSchema } from '../domain/reservation';
import { settleRequestSchema, settleResultSchema, sweepRequestSchema } from '../sweeps/operator';
import { SWEEP_NAMES } from '../sweeps/registry';
import { attentionPageSchema } from '../views/attention-view';
import { executionDetailSchema, executionsPageSchema, historyPageSchema, operationProgressSchema } from '../views/executions';
import { sweepReportSchema } from '../sweeps/report';
import { recoverAcceptedSchema, recoverRequestSchema } from '../operations/recover/request';
import { deleteVolumeQuerySchema, listVolumesQuerySchema, volumeDeletedSchema, volumesPageSchema } from '../sweeps/volume-cleanup/sweep';
import { providerOfferingSchema } from '../shared/providers-config';
import { consoleManifestSchema } from './console/manifest';
import { defineRoute, type HeaderSpec } from './route';
import {
  attentionQuerySchema,
  executionParamSchema,
  executionsQuerySchema,
  historyQuerySchema,
  idempotencyHeaderSchema,
  instanceIdParamSchema,
  listQuerySchema,
  operationParamSchema,
  operationWaitQuerySchema,
  operationsQuerySchema,
  ownerParamSchema,
  ownerQuerySchema,
  registryQuerySchema,
} from './schemas';

/** `GET /v1/providers`. */
const providersPageSchema = z.object({ default: z.string().nullable(), items: z.array(providerOfferingSchema) }).meta({ id: 'Providers' });

/** `/healthz`: each probed dependency, up or down. */
const healthChecksSchema = z.record(z.string(), z.enum(['up', 'down'])).meta({ description: 'Each dependency probed (table, workflows): up, or down when it failed or did not answer in 2 s' });

/** The header of a 202 naming where to follow the operation. */
const OPERATION_LOCATION = { location: { description: 'The operation: GET it (with ?wait=) to follow it', required: true } } satisfies Record<string, HeaderSpec>;

export const healthRoute = defineRoute({
  method: 'get',
  path: '/healthz',
  operationId: 'getHealth',
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
  operationId: 'createInstance',
  summary: 'Admit and start a provision',
  request: { headers: idempotencyHeaderSchema, query: ownerQuerySchema, body: provisionRequestSchema },
  responses: {
    202: { description: 'Admitted; the provision runs (a replay of the key answers the original admission, with `current`)', schema: admissionResultSchema, headers: { location: { description: 'The instance', required: true } } },
  },
  problems: {
    provision_in_progress: 'Another provision of this owner holds the reservation (instanceId names it)',
    reconciliation_pending: 'A failed provision of this owner is being cleaned up',
    name_taken: 'Another live instance of this owner has the name',
    idempotency_key_reused: 'The key was used with another body',
    quota_exceeded: 'The owner has its limit of live instances',
    contention: 'Too many concurrent admissions; retry with the same Idempotency-Key',
    workflow_unavailable: 'Admitted, but the workflow did not start; retry with the same Idempotency-Key',
    forbidden: 'The token may not act for ?owner',
    unknown_provider: 'No such provider is configured',
    unsupported_placement: 'The provider does not offer that region or size',
  },
});

export const listInstancesRoute = defineRoute({
  method: 'get',
  path: '/v1/instances',
  operationId: 'listInstances',
  summary: "List the caller's (or an org's) live instances, newest first",
  request: { query: listQuerySchema },
  responses: { 200: { description: 'A page of instances', schema: instancePageSchema } },
  problems: { owner_not_found: 'The token may not act for that owner' },
});

export const getInstanceRoute = defineRoute({
  method: 'get',
  path: '/v1/instances/{id}',
  operationId: 'getInstance',
  summary: 'One instance, with its last errors and current operation',
  request: { params: instanceIdParamSchema },
  responses: { 200: { description: 'The instance', schema: instanceViewSchema } },
  problems: { instance_not_found: 'No live instance of the caller has this id' },
});

export const operationsRoute = defineRoute({
  method: 'get',
  path: '/v1/instances/{id}/operations',
  operationId: 'listOperations',
  summary: "The instance's executions, newest first: kind, status, times, error and console link; a destroyed instance's too",
  request: { params: instanceIdParamSchema, query: operationsQuerySchema },
  responses: { 200: { description: 'Its executions', schema: operationsPageSchema } },
  problems: { instance_not_found: 'No instance of the caller has this id' },
});

export const operationProgressRoute = defineRoute({
  method: 'get',
  path: '/v1/instances/{id}/operations/{name}',
  operationId: 'getOperation',
  summary: 'One operation step by step (state, status, attempts, error in words), for following it; tombstoned instances too; `?wait=` holds until it ends',
  request: { params: operationParamSchema, query: operationWaitQuerySchema },
  responses: { 200: { description: 'Its execution and steps so far', schema: operationProgressSchema } },
  problems: { instance_not_found: 'No instance of the caller has this id', execution_not_found: 'No such operation of this instance' },
});

export const cancelOperationRoute = defineRoute({
  method: 'delete',
  path: '/v1/instances/{id}/operations/{name}',
  operationId: 'cancelOperation',
  summary:
    'Cancel a running operation: the request is recorded, the execution stopped and settled as a lost one is (a provision compensated, a switch rolled back, a start/stop/restart showing the real state), its last…Error code `cancelled`; a repeat answers the same',
  request: { params: operationParamSchema },
  responses: {
    200: { description: 'Cancelled and settled (or cancelled before, and settled since): the instance as it ends', schema: cancellationSchema, headers: OPERATION_LOCATION },
    202: { description: 'Cancel recorded and the execution stopped; the settle is not finished yet (the sweep finishes it): follow the operation', schema: cancellationSchema, headers: OPERATION_LOCATION },
  },
  problems: {
    instance_not_found: 'No instance of the caller has this id',
    execution_not_found: 'No such operation of this instance',
    operation_ended: 'The operation has already ended without a cancel: nothing to stop',
    operation_not_cancellable: 'A destroy (it runs to its end) or a recovery (the system repairing a dead machine) is never cancelled',
  },
});

/** A lifecycle route: claim first, then the workflow; the loser of a race gets 409 and causes nothing. */
function lifecycleRoute<const O extends LifecycleOperation>(operation: O) {
  return defineRoute({
    method: OPERATIONS[operation].lifecycle.method,
    path: OPERATIONS[operation].lifecycle.path,
    operationId: `${operation}Instance` as const,
    summary: OPERATIONS[operation].lifecycle.summary,
    request: { params: instanceIdParamSchema },
    responses: { 202: { description: 'Claimed; the operation runs', schema: operationAcceptedSchema, headers: OPERATION_LOCATION } },
    problems: {
      instance_not_found: 'No live instance of the caller has this id',
      instance_busy: 'Another operation holds the claim (heldBy names it); retry after Retry-After',
      invalid_state: 'Its status does not allow this operation',
      workflow_unavailable: 'The workflow did not start; the claim was handed back, retry',
    },
  });
}

/** Each lifecycle operation's route, as its spec states it. */
export const lifecycleRoutes = Object.fromEntries(LIFECYCLE_OPERATIONS.map((operation) => [operation, lifecycleRoute(operation)])) as { [O in LifecycleOperation]: ReturnType<typeof lifecycleRoute<O>> };

export const switchProviderRoute = defineRoute({
  method: 'post',
  path: '/v1/instances/{id}/switch-provider',
  operationId: 'switchInstanceProvider',
  summary: 'Move the instance to another provider: stop, provider write, provision on the target, commit — or roll back',
  request: { params: instanceIdParamSchema, body: switchRequestSchema },
  responses: {
    202: { description: 'Pre-claimed; the switch runs (its critical section belongs to the execution, not this request)', schema: operationAcceptedSchema, headers: OPERATION_LOCATION },
  },
  problems: {
    unknown_provider: 'No such provider is configured',
    unsupported_placement: 'The target does not offer that region or size',
    instance_not_found: 'No live instance of the caller has this id',
    already_switching: 'A switch of this instance runs',
    instance_busy: 'Another operation holds the claim; retry after Retry-After',
    provider_mismatch: 'expectedProvider is not its provider; no provider call was made',
    same_provider: 'It is on that provider already',
    invalid_state: 'Its status does not allow a switch',
    data_transfer_unsupported: 'These providers cannot carry the volume data; ask for data "fresh"',
    workflow_unavailable: 'The workflow did not start; the claim was handed back, retry',
  },
});

export const providersRoute = defineRoute({
  method: 'get',
  path: '/v1/providers',
  operationId: 'listProviders',
  summary: 'The providers this deployment runs, with their regions and sizes, and the default one',
  responses: { 200: { description: 'Configured providers', schema: providersPageSchema } },
});

export const adminInstanceRoute = defineRoute({
  method: 'get',
  path: '/v1/admin/instances/{id}',
  operationId: 'getAdminInstance',
  summary: 'Debug state of any instance (tombstones too): stored item, current execution, reservation, live provider view',
  request: { params: instanceIdParamSchema },
  responses: { 200: { description: 'The debug view; a provider part that fails reads `{ error }`', schema: adminInstanceViewSchema } },
  problems: { instance_not_found: 'No instance has this id' },
});

export const ownerRegistryRoute = defineRoute({
  method: 'get',
  path: '/v1/admin/owners/{owner}',
  operationId: 'getOwnerRegistry',
  summary: "An owner's registry: instances incl. tombstones, reservation, quota, recent operator actions",
  request: { params: ownerParamSchema, query: registryQuerySchema },
  responses: { 200: { description: 'The registry', schema: ownerRegistrySchema } },
});

export const releaseRoute = defineRoute({
  method: 'post',
  path: '/v1/admin/owners/{owner}/reservation/release',
  operationId: 'releaseReservation',
  summary: "Operator escape hatch: release the owner's unresolved reservation (audited)",
  request: { params: ownerParamSchema, body: releaseRequestSchema },
  responses: { 200: { description: 'Released; the audit record is stored with it', schema: releaseResultSchema } },
  problems: {
    reservation_not_found: 'The owner has no reservation',
    execution_still_running: 'The provision still runs; wait',
    reservation_not_releasable: 'Completed or released already',
    contention: 'The reservation kept changing; retry',
  },
});

export const runSweepRoute = defineRoute({
  method: 'post',
  path: '/v1/admin/sweeps/{name}',
  operationId: 'runSweep',
  summary: 'Run a sweep now; answers what it did, item by item (logged with the operator)',
  request: { params: z.object({ name: z.enum(SWEEP_NAMES).meta({ param: { name: 'name', in: 'path' } }) }), body: sweepRequestSchema, bodyOptional: true },
  responses: { 200: { description: 'What the run did', schema: sweepReportSchema } },
  problems: { sweep_running: 'Another run holds the lease; retry after Retry-After' },
});

export const settleInstanceRoute = defineRoute({
  method: 'post',
  path: '/v1/admin/instances/{id}/settle',
  operationId: 'settleInstance',
  summary: "Settle one instance now by the sweep's rules, whatever its due time (audited; a reason is required)",
  request: { params: instanceIdParamSchema, body: settleRequestSchema },
  responses: { 200: { description: 'What was done, with the audit record', schema: settleResultSchema } },
  problems: { instance_not_found: 'No instance has this id' },
});

export const recoverInstanceRoute = defineRoute({
  method: 'post',
  path: '/v1/admin/instances/{id}/recover',
  operationId: 'recoverInstance',
  summary: 'Force a recovery: a replacement volume forked from the old one and a new machine (audited; a reason is required; the cooldown does not apply)',
  request: { params: instanceIdParamSchema, body: recoverRequestSchema },
  responses: { 202: { description: 'Claimed (`recovering`); the recovery runs', schema: recoverAcceptedSchema, headers: OPERATION_LOCATION } },
  problems: {
    instance_not_found: 'No instance has this id',
    instance_busy: 'Another operation holds the claim; retry after Retry-After',
    invalid_state: 'Only a running instance is recovered: a stopped one is refused, nothing written',
    workflow_unavailable: 'The workflow did not start; the claim was handed back, retry',
  },
});

export const listVolumesRoute = defineRoute({
  method: 'get',
  path: '/v1/admin/volumes',
  operationId: 'listVolumes',
  summary: 'Volumes kept after a recovery or a switch, by state (retained, ownership_unverified, cleanup_exhausted), soonest due first (retained: by retainUntil; parked: by when parked), a page at a time',
  request: { query: listVolumesQuerySchema },
  responses: { 200: { description: 'Kept volumes', schema: volumesPageSchema } },
});

export const deleteVolumeRoute = defineRoute({
  method: 'delete',
  path: '/v1/admin/volumes/{volumeId}',
  operationId: 'deleteVolume',
  summary: 'Delete a retained volume before its date: ownership verified again, an attached machine of its instance destroyed first (audited; `?reason=` is required)',
  request: { params: z.object({ volumeId: z.string().min(1).max(100).meta({ param: { name: 'volumeId', in: 'path' } }) }), query: deleteVolumeQuerySchema },
  responses: { 200: { description: 'Deleted (or already deleted: the audit is then null); the volume item as it is now', schema: volumeDeletedSchema } },
  problems: {
    volume_not_found: 'No kept volume has this id',
    volume_in_use: 'An operation such as a recovery holds its instance, or another cleanup holds it; retry after Retry-After',
    volume_ownership_unverified: 'Its ownership tags do not prove it is this instance’s; never deleted',
    volume_delete_failed: 'The provider did not delete it; the try is counted',
  },
});

export const quotaRoute = defineRoute({
  method: 'put',
  path: '/v1/admin/owners/{owner}/quota',
  operationId: 'setOwnerQuota',
  summary: "Set an owner's instance limit (audited); the configured default applies until set",
  request: { params: ownerParamSchema, body: setQuotaRequestSchema },
  responses: { 200: { description: 'The new limit, with its audit record', schema: quotaChangeSchema } },
});

export const executionsRoute = defineRoute({
  method: 'get',
  path: '/v1/admin/executions',
  operationId: 'listExecutions',
  summary: "Every workflow's recent executions, newest first; by workflow, status or instance",
  request: { query: executionsQuerySchema },
  responses: { 200: { description: 'A page of executions', schema: executionsPageSchema } },
  problems: { instance_not_found: 'No instance has the ?instanceId' },
});

export const executionRoute = defineRoute({
  method: 'get',
  path: '/v1/admin/executions/{workflow}/{name}',
  operationId: 'getExecution',
  summary: 'One execution: status, input, output, error and cause, and the definition it ran',
  request: { params: executionParamSchema },
  responses: { 200: { description: 'The execution', schema: executionDetailSchema } },
  problems: { execution_not_found: 'No such execution of that workflow' },
});

export const executionHistoryRoute = defineRoute({
  method: 'get',
  path: '/v1/admin/executions/{workflow}/{name}/history',
  operationId: 'getExecutionHistory',
  summary: "A page of the execution's history (GetExecutionHistory), oldest first unless reversed",
  request: { params: executionParamSchema, query: historyQuerySchema },
  responses: { 200: { description: 'History events', schema: historyPageSchema } },
  problems: { execution_not_found: 'No such execution of that workflow' },
});

export const attentionRoute = defineRoute({
  method: 'get',
  path: '/v1/admin/attention',
  operationId: 'listAttention',
  summary: 'What the sweeps see as due now, or what is parked for an operator, from the attention index (never a Scan), oldest first',
  request: { query: attentionQuerySchema },
  responses: { 200: { description: 'A page of the attention index', schema: attentionPageSchema } },
});

export const consoleManifestRoute = defineRoute({
  method: 'get',
  path: '/v1/admin/console',
  operationId: 'getConsoleManifest',
  summary: 'What the operator console may show and offer: workflows, execution statuses, escape hatches, attention subjects',
  responses: { 200: { description: 'The console manifest', schema: consoleManifestSchema } },
});

/** Every route, in the order the document lists them. */
export const ROUTES = [
  healthRoute,
  createInstanceRoute,
  listInstancesRoute,
  getInstanceRoute,
  operationsRoute,
  operationProgressRoute,
  cancelOperationRoute,
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

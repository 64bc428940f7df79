import type { Hono } from 'hono';
import { adminInstanceView, ownerRegistry } from '../views/operator-views';
import { setOwnerQuota } from '../domain/owner';
import { releaseReservation } from '../domain/reservation';
import { accepted } from './accepted';
import type { ApiEnv } from './auth';
import { mount } from './route';
import { runSweepNow, settleInstanceByOperator } from '../sweeps/operator';
import { ATTENTION_SUBJECTS, listAttention } from '../views/attention-view';
import { LISTABLE_STATUSES } from '../views/executions';
import { WORKFLOW_NAMES } from '../shared/workflows';
import { hatchViews } from './console/escape-hatches';
import { executionDetail, executionHistory, listExecutions } from '../views/executions';
import {
  adminInstanceRoute,
  deleteVolumeRoute,
  listVolumesRoute,
  recoverInstanceRoute,
  attentionRoute,
  consoleManifestRoute,
  executionHistoryRoute,
  executionRoute,
  executionsRoute,
  ownerRegistryRoute,
  quotaRoute,
  releaseRoute,
  runSweepRoute,
  settleInstanceRoute,
} from './routes';
import { recoverByOperator } from '../operations/recover/request';
import { deleteRetainedVolumeByOperator, listRetainedVolumes } from '../sweeps/volume-cleanup/sweep';

/** The `/v1/admin` read views and audited escape hatches; the app's middleware requires scope `admin`. */
export function registerAdminRoutes(app: Hono<ApiEnv>): void {
  mount(app, adminInstanceRoute, async (c, { params }) => c.json(await adminInstanceView(c.var.deps, params.id), 200));

  mount(app, ownerRegistryRoute, async (c, { params, query }) => c.json(await ownerRegistry(c.var.deps, params.owner, { limit: query.limit, cursor: query.cursor }), 200));

  mount(app, quotaRoute, async (c, { params, body }) => c.json(await setOwnerQuota(c.var.deps, params.owner, c.get('caller').owner, body), 200));

  mount(app, releaseRoute, async (c, { params, body }) => c.json(await releaseReservation(c.var.deps, params.owner, c.get('caller').owner, body), 200));

  mount(app, runSweepRoute, async (c, { params, body }) => c.json(await runSweepNow(c.var.deps, params.name, c.get('caller').owner, body), 200));

  mount(app, settleInstanceRoute, async (c, { params, body }) => c.json(await settleInstanceByOperator(c.var.deps, params.id, c.get('caller').owner, body), 200));

  // The operator console's reads: executions, their histories and definitions, the attention index.
  mount(app, executionsRoute, async (c, { query }) => c.json(await listExecutions(c.var.deps, query), 200));

  mount(app, executionRoute, async (c, { params }) => c.json(await executionDetail(c.var.deps, params.workflow, params.name), 200));

  mount(app, executionHistoryRoute, async (c, { params, query }) => c.json(await executionHistory(c.var.deps, params.workflow, params.name, query), 200));

  mount(app, attentionRoute, async (c, { query }) => c.json(await listAttention(c.var.deps, query.band, query), 200));

  mount(app, consoleManifestRoute, async (c) =>
    c.json(
      {
        workflows: WORKFLOW_NAMES.filter((workflow) => c.var.deps.stateMachines[workflow]),
        statuses: [...LISTABLE_STATUSES],
        hatches: hatchViews(),
        attentionSubjects: ATTENTION_SUBJECTS.map(({ subject, label, alarm }) => ({ subject, label, alarm: alarm ?? null })),
      },
      200,
    ),
  );
  mount(app, recoverInstanceRoute, async (c, { params, body }) => accepted(c, await recoverByOperator(c.var.deps, params.id, c.get('caller').owner, body)));

  mount(app, listVolumesRoute, async (c, { query }) => c.json(await listRetainedVolumes(c.var.deps, query), 200));

  mount(app, deleteVolumeRoute, async (c, { params, query }) => c.json(await deleteRetainedVolumeByOperator(c.var.deps, params.volumeId, c.get('caller').owner, query), 200));
}

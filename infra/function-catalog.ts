/**
 * The function catalog: every Lambda slipway runs, once. The CDK orchestration stack makes a
 * `NodejsFunction` per entry and the local runtime imports the same handler modules in-process,
 * so a function added here appears in both worlds.
 *
 * The step functions are not written here: each is derived from the `StepSpec` its handler module
 * exports (`defineStep`), taken from the workflows that run it, so a step is stated once. The
 * entries written here are the functions no workflow runs: the API, the sweeps and the listener.
 *
 * Every handler module exports `createHandler(deps)` (used by the local runtime and tests, which
 * inject their own clients) and `handler` (the Lambda entry, built from configuration once).
 * Which workflows invoke a function is not written here: it is read off the built workflows
 * (`functionsOf` in `infra/workflows`).
 */
import type { StepSpec } from '../lambdas/operations/define-step';
import { settlesAndStarts } from '../lambdas/operations/settle-grants';
import { WORKFLOW_DEFINITIONS } from '../lambdas/operations/workflows';
import { stepsOf } from '../lambdas/operations/workflow-builder';
import type { TransientErrorName } from '../lambdas/shared/errors/core';
import type { FunctionEntry } from '../lambdas/shared/function-permissions';
import { WORKFLOW_NAMES } from '../lambdas/shared/workflows';
import { SWEEP_LIST } from '../lambdas/sweeps/registry';
import { CANCELLABLE_OPERATIONS } from '../lambdas/domain/cancel-request';

export type { FunctionPermissions, TableAction } from '../lambdas/shared/function-permissions';

/** One Lambda function: its entry (id, handler, limits, permissions) and what the catalog adds. */
export interface FunctionDefinition extends FunctionEntry {
  /** The transient errors its handler throws; a Task state retries exactly these (and Lambda's own). */
  transientErrors: readonly TransientErrorName[];
  /** Files (repository-relative) shipped beside the bundle, read at run time by base name (`lambdas/api/shipped-file.ts`). */
  files?: readonly string[];
}

/** A step's catalog entry: what its StepSpec states. */
function fromStep(step: StepSpec): FunctionDefinition {
  return {
    id: step.name,
    entry: step.entry,
    description: step.description,
    timeoutSeconds: step.timeoutSeconds,
    memoryMb: step.memoryMb,
    permissions: step.permissions,
    transientErrors: step.transientErrors,
  };
}

/** Every step some workflow runs, once, in the order the workflows first run them. */
const STEPS: readonly StepSpec[] = [...new Set(WORKFLOW_NAMES.flatMap((workflow) => stepsOf(WORKFLOW_DEFINITIONS[workflow])))];


/** All functions. */
export const FUNCTION_CATALOG: readonly FunctionDefinition[] = [
  {
    id: 'Api',
    entry: 'lambdas/api/handler.ts',
    description: 'HTTP API: admission, reads, lifecycle operations and the operator console',
    // Read only by /openapi.json, /console and /docs: beside the code, not parsed at every cold start.
    files: ['lambdas/api/openapi.compressed.json', 'lambdas/api/console/assets.json', 'node_modules/swagger-ui-dist/swagger-ui-bundle.js', 'node_modules/swagger-ui-dist/swagger-ui.css'],
    timeoutSeconds: 29,
    memoryMb: 512,
    // The operator's "run a sweep now" and "settle" run the sweep's rules in the API function; the
    // operator console reads every workflow's executions (a workflow added later is inspected too).
    permissions: {
      table: ['GetItem', 'Query', 'UpdateItem', 'PutItem', 'BatchGetItem'],
      startsWorkflows: [...WORKFLOW_NAMES],
      inspectsWorkflows: WORKFLOW_NAMES,
      // An owner's cancel stops the execution and settles it.
      stopsWorkflows: CANCELLABLE_OPERATIONS,
      usesProvider: true,
      // A forced recovery, an early volume delete and the sweeps run from the API publish events.
      publishesEvents: true,
    },
    transientErrors: [],
  },
  // The sweeps' functions, from their specs (lambdas/sweeps/registry.ts).
  ...SWEEP_LIST.map((sweep): FunctionDefinition => ({ ...sweep.function, transientErrors: [] })),
  {
    id: 'ExecutionClosed',
    entry: 'lambdas/events/execution-closed.ts',
    description: 'Settle what a failed, timed-out or aborted execution left behind',
    timeoutSeconds: 120,
    memoryMb: 256,
    permissions: {
      table: ['GetItem', 'UpdateItem', 'BatchGetItem'],
      // It settles only the claim (and reservation) of the execution that closed: no drift check, no destroy retry.
      ...settlesAndStarts([]),
      usesProvider: true,
      publishesEvents: true,
    },
    transientErrors: [],
  },
  ...STEPS.map(fromStep),
];

/** A catalog entry by id, or a clear error (a workflow naming an unknown function is a build bug). */
export function catalogEntry(functionId: string): FunctionDefinition {
  const entry = FUNCTION_CATALOG.find((fn) => fn.id === functionId);
  if (!entry) throw new Error(`The function catalog has no entry ${functionId}`);
  return entry;
}

export { arnVariable } from '../lambdas/operations/workflow-builder';

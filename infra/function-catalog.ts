/**
 * The function catalog: every Lambda slipway runs, once. The CDK orchestration stack makes a
 * `NodejsFunction` per entry, the workflow builder (`infra/workflows/`) derives each Task state's
 * timeout and retriers from it, and the local runtime imports the same handler modules in-process,
 * so a function added here appears in both worlds.
 *
 * Every handler module exports `createHandler(deps)` (used by the local runtime and tests, which
 * inject their own clients) and `handler` (the Lambda entry, built from configuration once).
 * Which workflows invoke a function is not written here: it is read off the built workflows
 * (`functionsOf` in `infra/workflows`).
 */
import { ErrorNames, type TransientErrorName } from '../lambdas/shared/errors/core';
import { WORKFLOW_NAMES, type WorkflowName } from '../lambdas/shared/workflows';
import { CANCELLABLE_OPERATIONS } from '../lambdas/domain/cancel-request';

/** A DynamoDB action a function's code performs (a transaction needs the actions of its items). */
export type TableAction = 'GetItem' | 'Query' | 'UpdateItem' | 'PutItem' | 'BatchGetItem';

/** What a function may touch; the CDK stack grants exactly this, never wildcards. */
export interface FunctionPermissions {
  /** Its actions on the table (Query also on the indexes); none for a function that never reads it. */
  table: readonly TableAction[];
  /** Workflows whose executions it may start and describe. */
  startsWorkflows?: WorkflowName[];
  /** Workflows whose executions it may describe without starting them. */
  describesWorkflows?: WorkflowName[];
  /** Workflows whose executions it may stop (a cancel); each must also be one it starts or describes. */
  stopsWorkflows?: readonly WorkflowName[];
  /**
   * Workflows it inspects for operators: list their executions, read each execution's history and
   * the definition it ran (ListExecutions, GetExecutionHistory, DescribeStateMachineForExecution).
   */
  inspectsWorkflows?: readonly WorkflowName[];
  /** Calls the compute provider (secrets / network for real providers). */
  usesProvider?: boolean;
  /** Publishes lifecycle events (PutEvents on slipway's bus, and nothing else). */
  publishesEvents?: boolean;
}

/** One Lambda function. */
export interface FunctionDefinition {
  /** Logical id: the CDK construct id, the Task state's name and the ASL substitution `${<id>FunctionArn}`. */
  id: string;
  /** Handler module, relative to the repository root. */
  entry: string;
  description: string;
  timeoutSeconds: number;
  memoryMb: number;
  permissions: FunctionPermissions;
  /** The transient errors its handler throws; a Task state retries exactly these (and Lambda's own). */
  transientErrors: readonly TransientErrorName[];
  /** Files (repository-relative) shipped beside the bundle, read at run time by base name (`lambdas/api/shipped-file.ts`). */
  files?: readonly string[];
}

const { ProviderUnavailable, MachineNotReady } = ErrorNames;

const step = (id: string, entry: string, description: string, extra: Partial<FunctionDefinition> = {}): FunctionDefinition => ({
  id,
  entry,
  description,
  timeoutSeconds: 30,
  memoryMb: 256,
  permissions: { table: ['GetItem', 'UpdateItem'], usesProvider: true },
  transientErrors: [],
  ...extra,
});

/** Steps that read the instance (the claim) and call the provider, never writing the table. */
const readsAndCallsProvider: FunctionPermissions = { table: ['GetItem'], usesProvider: true };
/** Steps that clean up by ownership tags: they read the instance and which tagged volumes are retained (BatchGetItem). */
const cleansUpByTags: FunctionPermissions = { table: ['GetItem', 'BatchGetItem'], usesProvider: true };
/** Steps that only read and write the table (conditional updates, alone or in transactions). */
const tableOnly: Partial<FunctionDefinition> = { permissions: { table: ['GetItem', 'UpdateItem'] } };

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
      startsWorkflows: ['provision', 'start', 'stop', 'restart', 'destroy', 'switch', 'recover'],
      inspectsWorkflows: WORKFLOW_NAMES,
      // An owner's cancel stops the execution and settles it.
      stopsWorkflows: CANCELLABLE_OPERATIONS,
      usesProvider: true,
      // A forced recovery, an early volume delete and the sweeps run from the API publish events.
      publishesEvents: true,
    },
    transientErrors: [],
  },
  {
    id: 'Reconcile',
    entry: 'lambdas/sweeps/reconcile/handler.ts',
    description: 'Reconcile sweep: settle what is due on the attention index, collect orphans',
    timeoutSeconds: 240,
    memoryMb: 512,
    permissions: {
      table: ['GetItem', 'Query', 'UpdateItem', 'BatchGetItem'],
      // Recovery of an unexpected stop; mount repair (restart); a provision that never started; the old machine after a lost switch or forced recovery (start); a failed or lost destroy, again (destroy).
      startsWorkflows: ['provision', 'restart', 'start', 'recover', 'destroy'],
      describesWorkflows: ['stop', 'switch'],
      // A cancel whose request died before its StopExecution: the sweep stops it.
      stopsWorkflows: CANCELLABLE_OPERATIONS,
      usesProvider: true,
      publishesEvents: true,
    },
    transientErrors: [],
  },
  {
    id: 'ExecutionClosed',
    entry: 'lambdas/events/execution-closed.ts',
    description: 'Settle what a failed, timed-out or aborted execution left behind',
    timeoutSeconds: 120,
    memoryMb: 256,
    permissions: {
      table: ['GetItem', 'UpdateItem', 'BatchGetItem'],
      startsWorkflows: ['provision', 'restart', 'start', 'recover'],
      describesWorkflows: ['stop', 'destroy', 'switch'],
      usesProvider: true,
      publishesEvents: true,
    },
    transientErrors: [],
  },
  {
    id: 'VolumeCleanup',
    entry: 'lambdas/sweeps/volume-cleanup/handler.ts',
    description: 'Volume-cleanup sweep: delete retained volumes past their date, ownership verified',
    timeoutSeconds: 300,
    memoryMb: 256,
    permissions: { table: ['GetItem', 'Query', 'UpdateItem'], usesProvider: true, publishesEvents: true },
    transientErrors: [],
  },
  step('MarkProviderWorkStarted', 'lambdas/operations/provision/handlers/mark-provider-work-started.ts', 'Move the reservation to provider_work_started (fenced)', {
    permissions: { table: ['UpdateItem'] },
  }),
  step('CreateVolume', 'lambdas/operations/provision/handlers/create-volume.ts', 'Create or adopt the instance volume', {
    permissions: { table: ['GetItem', 'UpdateItem', 'BatchGetItem'], usesProvider: true },
    transientErrors: [ProviderUnavailable],
  }),
  step('CreateMachine', 'lambdas/operations/provision/handlers/create-machine.ts', 'Create or adopt the instance machine on its volume', { transientErrors: [ProviderUnavailable] }),
  step('WaitMachineStarted', 'lambdas/operations/machine/handlers/wait-machine-started.ts', 'Wait until the machine is started and healthy', {
    timeoutSeconds: 70,
    permissions: { table: [], usesProvider: true },
    transientErrors: [ProviderUnavailable, MachineNotReady],
  }),
  step('CommitProvision', 'lambdas/operations/provision/handlers/commit-provision.ts', 'Mark the instance running and complete the reservation', tableOnly),
  step('CompensateProvision', 'lambdas/operations/provision/handlers/compensate-provision.ts', 'Destroy what a failed provision made and verify it is gone', {
    timeoutSeconds: 120,
    permissions: cleansUpByTags,
    transientErrors: [ProviderUnavailable],
  }),
  step('FailProvision', 'lambdas/operations/provision/handlers/fail-provision.ts', 'Mark the instance failed and release the reservation', tableOnly),
  step('EnsureMachineMount', 'lambdas/operations/machine/handlers/ensure-machine-mount.ts', 'Repair a machine that does not mount the instance volume', {
    timeoutSeconds: 90,
    transientErrors: [ProviderUnavailable],
  }),
  step('StartMachine', 'lambdas/operations/machine/handlers/start-machine.ts', 'Start the instance machine', {
    timeoutSeconds: 60,
    permissions: readsAndCallsProvider,
    transientErrors: [ProviderUnavailable],
  }),
  step('StopMachine', 'lambdas/operations/machine/handlers/stop-machine.ts', 'Stop the instance machine and wait until it is stopped', {
    timeoutSeconds: 70,
    permissions: readsAndCallsProvider,
    transientErrors: [ProviderUnavailable, MachineNotReady],
  }),
  step('DestroyResources', 'lambdas/operations/lifecycle/handlers/destroy-resources.ts', 'Destroy the instance machine and volume after verifying their tags', {
    timeoutSeconds: 120,
    permissions: cleansUpByTags,
    transientErrors: [ProviderUnavailable],
  }),
  step('FinishOperation', 'lambdas/operations/lifecycle/handlers/finish-operation.ts', 'Release the claim with the operation outcome (fenced)', tableOnly),
  step('TombstoneInstance', 'lambdas/operations/lifecycle/handlers/tombstone-instance.ts', 'Tombstone the instance, free quota, release its reservation', tableOnly),
  step('RecordOperationFailure', 'lambdas/operations/lifecycle/handlers/record-operation-failure.ts', 'Show the real state and the error, release the claim (fenced)', {
    timeoutSeconds: 60,
  }),
  step('MarkNeedsReconciliation', 'lambdas/operations/provision/handlers/mark-needs-reconciliation.ts', 'Hand an unverified cleanup to the reconcile sweep', tableOnly),
  step('WriteSwitchTarget', 'lambdas/operations/switch/handlers/write-switch-target.ts', 'The provider write of a switch: target recorded, old placement remembered (fenced)', tableOnly),
  step('RetireSwitchedFrom', 'lambdas/operations/switch/handlers/retire-switched-from.ts', 'Destroy the machine a switch moved away from (ownership verified)', {
    timeoutSeconds: 60,
    permissions: readsAndCallsProvider,
    transientErrors: [ProviderUnavailable],
  }),
  step('CommitSwitch', 'lambdas/operations/switch/handlers/commit-switch.ts', 'Commit a switch: instance on its new provider, claim released, old volume retained', {
    permissions: { table: ['GetItem', 'UpdateItem', 'PutItem'] },
  }),
  step('RollbackSwitch', 'lambdas/operations/switch/handlers/rollback-switch.ts', 'Destroy what a switch made on its target (verified) and restore the old provider', {
    timeoutSeconds: 120,
    permissions: { table: ['GetItem', 'UpdateItem', 'BatchGetItem'], usesProvider: true },
    transientErrors: [ProviderUnavailable],
  }),
  step('RecordSwitchFailure', 'lambdas/operations/switch/handlers/record-switch-failure.ts', "Release a rolled-back switch's claim with the old machine's real state and lastSwitchError", {
    timeoutSeconds: 60,
  }),
  step('ForkVolume', 'lambdas/operations/recover/handlers/fork-volume.ts', 'Fork the recovery replacement volume (its name recorded first)', {
    timeoutSeconds: 120,
    permissions: { table: ['GetItem', 'UpdateItem', 'BatchGetItem'], usesProvider: true },
    transientErrors: [ProviderUnavailable],
  }),
  step('CutOverRecovery', 'lambdas/operations/recover/handlers/cut-over-recovery.ts', 'Point the instance at the replacement and retain the old volume, in one transaction', {
    // A TransactWriteItems of the instance (UpdateItem) and the retained volume (PutItem).
    permissions: { table: ['GetItem', 'UpdateItem', 'PutItem'], usesProvider: true, publishesEvents: true },
    transientErrors: [ProviderUnavailable],
  }),
  step('RetireOldResources', 'lambdas/operations/recover/handlers/retire-old-resources.ts', 'Destroy the replaced machine and delete the replaced volume unless retained', {
    timeoutSeconds: 120,
    permissions: { table: ['GetItem'], usesProvider: true, publishesEvents: true },
    transientErrors: [ProviderUnavailable],
  }),
  step('FinishRecovery', 'lambdas/operations/recover/handlers/finish-recovery.ts', 'Release the recovery claim as running, with the cooldown', {
    permissions: { table: ['GetItem', 'UpdateItem'], publishesEvents: true },
  }),
  step('FailRecovery', 'lambdas/operations/recover/handlers/fail-recovery.ts', 'Destroy what a failed recovery made and show stopped with lastRecoveryError', {
    timeoutSeconds: 120,
    permissions: { table: ['GetItem', 'UpdateItem', 'BatchGetItem'], usesProvider: true, publishesEvents: true },
    transientErrors: [ProviderUnavailable],
  }),
];

/** A catalog entry by id, or a clear error (a workflow naming an unknown function is a build bug). */
export function catalogEntry(functionId: string): FunctionDefinition {
  const entry = FUNCTION_CATALOG.find((fn) => fn.id === functionId);
  if (!entry) throw new Error(`The function catalog has no entry ${functionId}`);
  return entry;
}

/** The ASL substitution variable that carries a function's ARN. */
export function arnVariable(functionId: string): string {
  return `${functionId}FunctionArn`;
}

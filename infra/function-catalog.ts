/**
 * The function catalog: every Lambda slipway runs, once. The CDK orchestration stack makes a
 * `NodejsFunction` per entry and the local runtime imports the same module in-process, so a
 * function added here appears in both worlds.
 *
 * Every handler module exports `createHandler(deps)` (used by the local runtime and tests, which
 * inject their own clients) and `handler` (the Lambda entry, built from configuration once).
 */

/** Workflows, each one `statemachines/<file>`. */
export const WORKFLOWS = {
  provision: { file: 'provision.asl.json', stateMachineName: 'slipway-provision' },
  start: { file: 'start.asl.json', stateMachineName: 'slipway-start' },
  stop: { file: 'stop.asl.json', stateMachineName: 'slipway-stop' },
  restart: { file: 'restart.asl.json', stateMachineName: 'slipway-restart' },
  destroy: { file: 'destroy.asl.json', stateMachineName: 'slipway-destroy' },
} as const;

export type WorkflowName = keyof typeof WORKFLOWS;

/** What a function may touch; the CDK stack turns this into grants, never wildcards. */
export interface FunctionPermissions {
  table: 'read' | 'readWrite';
  /** Workflows whose executions it may start and read. */
  startsWorkflows?: WorkflowName[];
  /** Calls the compute provider (secrets / network for real providers). */
  usesProvider?: boolean;
}

/** One Lambda function. */
export interface FunctionDefinition {
  /** Logical id: the CDK construct id and the ASL substitution `${<id>FunctionArn}`. */
  id: string;
  /** Handler module, relative to the repository root. */
  entry: string;
  description: string;
  timeoutSeconds: number;
  memoryMb: number;
  permissions: FunctionPermissions;
  /** Workflows whose Task states invoke this function. */
  invokedBy: WorkflowName[];
}

const step = (
  id: string,
  entry: string,
  description: string,
  invokedBy: WorkflowName[],
  extra: Partial<FunctionDefinition> = {},
): FunctionDefinition => ({
  id,
  entry,
  description,
  timeoutSeconds: 30,
  memoryMb: 256,
  permissions: { table: 'readWrite', usesProvider: true },
  invokedBy,
  ...extra,
});

/** All functions. */
export const FUNCTION_CATALOG: readonly FunctionDefinition[] = [
  {
    id: 'Api',
    entry: 'lambdas/api/handler.ts',
    description: 'HTTP API: admission, reads and lifecycle operations',
    timeoutSeconds: 29,
    memoryMb: 512,
    permissions: { table: 'readWrite', startsWorkflows: ['provision', 'start', 'stop', 'restart', 'destroy'], usesProvider: true },
    invokedBy: [],
  },
  step('MarkProviderWorkStarted', 'lambdas/steps/mark-provider-work-started.ts', 'Move the reservation to provider_work_started (fenced)', ['provision'], {
    permissions: { table: 'readWrite' },
  }),
  step('CreateVolume', 'lambdas/steps/create-volume.ts', 'Create or adopt the instance volume', ['provision']),
  step('CreateMachine', 'lambdas/steps/create-machine.ts', 'Create or adopt the instance machine on its volume', ['provision']),
  step('WaitMachineStarted', 'lambdas/steps/wait-machine-started.ts', 'Wait until the machine is started and healthy', ['provision', 'start', 'restart'], {
    timeoutSeconds: 70,
  }),
  step('CommitProvision', 'lambdas/steps/commit-provision.ts', 'Mark the instance running and complete the reservation', ['provision'], {
    permissions: { table: 'readWrite' },
  }),
  step('CompensateProvision', 'lambdas/steps/compensate-provision.ts', 'Destroy what a failed provision made and verify it is gone', ['provision'], {
    timeoutSeconds: 120,
  }),
  step('FailProvision', 'lambdas/steps/fail-provision.ts', 'Mark the instance failed and release the reservation', ['provision'], {
    permissions: { table: 'readWrite' },
  }),
  step('EnsureMachineMount', 'lambdas/steps/ensure-machine-mount.ts', 'Repair a machine that does not mount the instance volume', ['start', 'restart'], {
    timeoutSeconds: 90,
  }),
  step('StartMachine', 'lambdas/steps/start-machine.ts', 'Start the instance machine', ['start', 'restart'], { timeoutSeconds: 60 }),
  step('StopMachine', 'lambdas/steps/stop-machine.ts', 'Stop the instance machine and wait until it is stopped', ['stop', 'restart'], { timeoutSeconds: 70 }),
  step('DestroyResources', 'lambdas/steps/destroy-resources.ts', 'Destroy the instance machine and volume after verifying their tags', ['destroy'], {
    timeoutSeconds: 120,
  }),
  step('FinishOperation', 'lambdas/steps/finish-operation.ts', 'Release the claim with the operation outcome (fenced)', ['start', 'stop', 'restart'], {
    permissions: { table: 'readWrite' },
  }),
  step('FinishDestroy', 'lambdas/steps/finish-destroy.ts', 'Tombstone the instance, free quota, release its reservation', ['destroy'], {
    permissions: { table: 'readWrite' },
  }),
  step('RecordOperationFailure', 'lambdas/steps/record-operation-failure.ts', 'Show the real state and the error, release the claim (fenced)', ['start', 'stop', 'restart', 'destroy'], {
    timeoutSeconds: 60,
  }),
  step('MarkNeedsReconciliation', 'lambdas/steps/mark-needs-reconciliation.ts', 'Hand an unverified cleanup to the reconcile sweep', ['provision'], {
    permissions: { table: 'readWrite' },
  }),
];

/** The ASL substitution variable that carries a function's ARN. */
export function arnVariable(functionId: string): string {
  return `${functionId}FunctionArn`;
}

/** The catalog entries a workflow invokes. */
export function functionsOf(workflow: WorkflowName): FunctionDefinition[] {
  return FUNCTION_CATALOG.filter((fn) => fn.invokedBy.includes(workflow));
}

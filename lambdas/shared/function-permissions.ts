/**
 * A Lambda function as the function catalog (infra) lists it: its entry, its limits and what it may
 * touch. Declared here, in lambdas, so a sweep's spec can state its own function (infra reads it,
 * never the reverse).
 */
import type { WorkflowName } from './workflows';

/** A DynamoDB action a function's code performs (a transaction needs the actions of its items). */
export type TableAction = 'GetItem' | 'Query' | 'UpdateItem' | 'PutItem' | 'BatchGetItem';

/** What a step's function may touch (a StepSpec states it); the CDK stack grants exactly this, never wildcards. */
export interface StepPermissions {
  /** Its actions on the table (Query also on the indexes); none for a function that never reads it. */
  table: readonly TableAction[];
  /** Calls the compute provider (secrets / network for real providers). */
  usesProvider?: boolean;
  /** Publishes lifecycle events (PutEvents on slipway's bus, and nothing else). */
  publishesEvents?: boolean;
}

/** What any function may touch: a step's grants plus the workflows it starts, describes or inspects. */
export interface FunctionPermissions extends StepPermissions {
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
}

/** A function's entry in the catalog, as a spec in lambdas can state it. */
export interface FunctionEntry {
  /** Logical id: the CDK construct id, the Task state's name and the ASL substitution `${<id>FunctionArn}`. */
  id: string;
  /** Handler module, relative to the repository root. */
  entry: string;
  description: string;
  timeoutSeconds: number;
  memoryMb: number;
  permissions: FunctionPermissions;
}

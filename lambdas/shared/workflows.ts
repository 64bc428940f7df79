/**
 * The workflows slipway runs: one per operation, named after it (the registry lists them). Runtime
 * code needs only their names (to find a state machine's ARN in configuration); the definitions are
 * built in `lambdas/operations/<op>/workflow.ts` and written to `statemachines/<name>.asl.json`.
 */
import { OPERATION_NAMES } from '../operations/registry';

export const WORKFLOW_NAMES = OPERATION_NAMES;

/**
 * A workflow's name; also the operation it runs (the recovery workflow is `recover`, like its
 * operation, so its executions, its ARN variable and `stateMachineOf(kind)` need no mapping).
 */
export type WorkflowName = (typeof WORKFLOW_NAMES)[number];

/** The name of a variable that carries a state machine ARN. */
export type StateMachineArnVariable = `${string}_STATE_MACHINE_ARN`;

/**
 * The environment variable through which a function learns a workflow's state machine ARN:
 * `provision` → `PROVISION_STATE_MACHINE_ARN`, `switchProvider` → `SWITCH_PROVIDER_STATE_MACHINE_ARN`.
 */
export function stateMachineArnEnvVar(workflow: WorkflowName): StateMachineArnVariable {
  const snake = workflow.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/-/g, '_').toUpperCase();
  return `${snake}_STATE_MACHINE_ARN`;
}

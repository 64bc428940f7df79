/**
 * The workflow grants of a function that settles lost executions (the reconcile sweep, the
 * execution-closed listener): derived from the operations' specs, so a new operation is described
 * and, where its settle rule starts one, started without a line written here.
 */
import type { FunctionPermissions } from '../shared/function-permissions';
import { WORKFLOW_NAMES, type WorkflowName } from '../shared/workflows';
import { SETTLE_STARTS } from './registry';

/**
 * It starts what any operation's settle rule may start (its spec says: a provision that never
 * started, the old machine after a lost switch or forced recovery) plus `also`, and describes every
 * other workflow, since a claim of any operation may be the one it settles.
 */
export function settlesAndStarts(also: readonly WorkflowName[]): Pick<FunctionPermissions, 'startsWorkflows' | 'describesWorkflows'> {
  const starts = WORKFLOW_NAMES.filter((workflow) => SETTLE_STARTS.includes(workflow) || also.includes(workflow));
  return { startsWorkflows: starts, describesWorkflows: WORKFLOW_NAMES.filter((workflow) => !starts.includes(workflow)) };
}

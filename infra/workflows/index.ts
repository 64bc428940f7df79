/**
 * Every workflow's definition, built from its steps' StepSpecs, and what is read off them: which functions
 * each invokes. `npm run build:asl` writes them to `statemachines/<name>.asl.json`, which the CDK
 * stack and the local runtime load; a unit test keeps the committed files equal to these.
 */
import path from 'node:path';
import { WORKFLOW_NAMES, type WorkflowName } from '../../lambdas/shared/workflows';
import { arnVariable } from '../../lambdas/operations/workflow-builder';
import { FUNCTION_CATALOG, type FunctionDefinition } from '../function-catalog';
import { WORKFLOW_DEFINITIONS } from '../../lambdas/operations/workflows';

export { WORKFLOW_DEFINITIONS };

/** Directory of the generated `*.asl.json` files. */
export const STATEMACHINES_DIR = path.resolve(__dirname, '..', '..', 'statemachines');

/** The file a workflow's definition is written to. */
export function definitionFile(workflow: WorkflowName): string {
  return path.join(STATEMACHINES_DIR, `${workflow}.asl.json`);
}

/** A workflow's definition as the file holds it: two-space JSON and a final newline. */
export function renderDefinition(workflow: WorkflowName): string {
  return `${JSON.stringify(WORKFLOW_DEFINITIONS[workflow], null, 2)}\n`;
}

/** The catalog entries a workflow's Task states invoke, in catalog order. */
export function functionsOf(workflow: WorkflowName): FunctionDefinition[] {
  const resources = new Set(Object.values(WORKFLOW_DEFINITIONS[workflow].States).map((state) => state.Resource));
  return FUNCTION_CATALOG.filter((fn) => resources.has(`\${${arnVariable(fn.id)}}`));
}

/** The workflows that invoke a function (empty for functions no Task state runs, like the API). */
export function workflowsInvoking(functionId: string): WorkflowName[] {
  return WORKFLOW_NAMES.filter((workflow) => functionsOf(workflow).some((fn) => fn.id === functionId));
}

/** The state machine's name in the local world and, until stacks name them, on AWS. */
export function stateMachineNameOf(workflow: WorkflowName): string {
  return `slipway-${workflow}`;
}

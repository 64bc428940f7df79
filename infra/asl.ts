/**
 * Workflow definitions as deployed and their `DefinitionSubstitutions`, shared by the CDK
 * orchestration stack (which hands the map to CloudFormation) and the local runtime (which
 * substitutes local ARNs itself). Deliberately free of CDK imports so the local runtime does not
 * load aws-cdk-lib.
 */
import { readFileSync } from 'node:fs';
import type { WorkflowName } from '../lambdas/shared/workflows';
import { arnVariable } from './function-catalog';
import { definitionFile, functionsOf } from './workflows';

/** Matches one `${name}` substitution variable; names follow CloudFormation's rules. */
const VARIABLE = /\$\{([A-Za-z0-9_.:-]+)\}/g;

/** The ASL text of a workflow as committed in `statemachines/` (what ships). */
export function readWorkflowDefinition(workflow: WorkflowName): string {
  return readFileSync(definitionFile(workflow), 'utf8');
}

/** The substitution map of a workflow: `${<id>FunctionArn}` → the ARN `arnOf` gives each function it invokes. */
export function substitutionsFor(workflow: WorkflowName, arnOf: (functionId: string) => string): Record<string, string> {
  return Object.fromEntries(functionsOf(workflow).map((fn) => [arnVariable(fn.id), arnOf(fn.id)]));
}

/** Every distinct `${name}` variable a definition mentions, in order of first appearance. */
export function variablesIn(text: string): string[] {
  return [...new Set([...text.matchAll(VARIABLE)].map((match) => match[1] as string))];
}

/** The variables a definition mentions that the map does not provide. */
export function missingSubstitutions(text: string, substitutions: Record<string, string>): string[] {
  return variablesIn(text).filter((name) => !Object.hasOwn(substitutions, name));
}

/**
 * Substitute `${name}` variables as Step Functions does, and refuse to return a definition that
 * still names a variable: a missing ARN would otherwise surface only when the Task runs.
 */
export function applySubstitutions(text: string, substitutions: Record<string, string>): string {
  const missing = missingSubstitutions(text, substitutions);
  if (missing.length > 0) {
    throw new Error(`Definition has unresolved substitution variables: ${missing.map((name) => `\${${name}}`).join(', ')}`);
  }
  return text.replace(VARIABLE, (_match, name: string) => substitutions[name] as string);
}

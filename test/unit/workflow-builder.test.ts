import { readFileSync } from 'node:fs';
import { catalogEntry } from '../../infra/function-catalog';
import { LAMBDA_SERVICE_ERRORS, TASK_TIMEOUT_MARGIN_SECONDS, worstCaseSeconds, type AslState } from '../../infra/workflows/builder';
import { WORKFLOW_DEFINITIONS, definitionFile, renderDefinition } from '../../infra/workflows';
import { TRANSIENT_ERRORS } from '../../lambdas/shared/errors/core';
import { WORKFLOW_NAMES } from '../../lambdas/shared/workflows';

const tasksOf = (workflow: (typeof WORKFLOW_NAMES)[number]) =>
  Object.entries(WORKFLOW_DEFINITIONS[workflow].States).filter((entry): entry is [string, AslState & { Resource: string }] => entry[1].Type === 'Task');
const functionIdOf = (state: { Resource: string }) => /^\$\{(.+)FunctionArn\}$/.exec(state.Resource)?.[1] as string;

describe.each(WORKFLOW_NAMES)('the %s workflow', (workflow) => {
  it('is committed exactly as the builder makes it (run `npm run build:asl` after changing infra/workflows)', () => {
    expect(readFileSync(definitionFile(workflow), 'utf8')).toBe(renderDefinition(workflow));
  });

  it('gives every Task its function timeout plus the margin, so a cold start never trips States.Timeout', () => {
    const timeouts = tasksOf(workflow).map(([name, state]) => [name, state.TimeoutSeconds]);

    expect(timeouts).toEqual(tasksOf(workflow).map(([name, state]) => [name, catalogEntry(functionIdOf(state)).timeoutSeconds + TASK_TIMEOUT_MARGIN_SECONDS]));
  });

  it('retries Lambda service errors, then exactly the transient errors its function declares', () => {
    const retried = tasksOf(workflow).map(([name, state]) => [name, (state.Retry as Array<{ ErrorEquals: string[] }>).map((r) => r.ErrorEquals)]);

    expect(retried).toEqual(
      tasksOf(workflow).map(([name, state]) => [name, [[...LAMBDA_SERVICE_ERRORS], ...catalogEntry(functionIdOf(state)).transientErrors.map((e) => [e])]]),
    );
    for (const [, state] of tasksOf(workflow)) {
      for (const retry of (state.Retry as Array<{ ErrorEquals: string[]; MaxDelaySeconds: number }>).slice(1)) {
        expect(retry.MaxDelaySeconds).toBe(TRANSIENT_ERRORS[retry.ErrorEquals[0] as keyof typeof TRANSIENT_ERRORS].maxDelaySeconds);
      }
    }
  });

  it('times the whole execution out only after the worst case of every Task in it', () => {
    const definition = WORKFLOW_DEFINITIONS[workflow];
    const worstCase = Object.values(definition.States).reduce((sum, state) => sum + worstCaseSeconds(state), 0);

    expect(definition.TimeoutSeconds).toBeGreaterThanOrEqual(worstCase);
    expect(definition.TimeoutSeconds - worstCase).toBeLessThan(60);
  });
});

describe('state names', () => {
  it.each(WORKFLOW_NAMES)('name every Task of %s after the function it runs, so console, function and use case share one name', (workflow) => {
    // A state may add where it acts after the function's name (a switch restarts the old machine `…OnOldProvider`).
    const tasks = tasksOf(workflow);
    const named = tasks.map(([name, state]) => [name, name.startsWith(functionIdOf(state))]);

    expect(named).toEqual(tasks.map(([name]) => [name, true]));
  });
});

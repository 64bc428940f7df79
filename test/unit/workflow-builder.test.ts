import { readFileSync } from 'node:fs';
import { FUNCTION_CATALOG, catalogEntry } from '../../infra/function-catalog';
import { LAMBDA_SERVICE_ERRORS, TASK_TIMEOUT_MARGIN_SECONDS, task, worstCaseSeconds, type AslState } from '../../lambdas/operations/workflow-builder';
import { TombstoneInstance } from '../../lambdas/operations/lifecycle/handlers/tombstone-instance';
import { WaitMachineStarted } from '../../lambdas/operations/machine/handlers/wait-machine-started';
import { CreateVolume } from '../../lambdas/operations/provision/handlers/create-volume';
import { WORKFLOW_DEFINITIONS, definitionFile, renderDefinition } from '../../infra/workflows';
import { TRANSIENT_ERRORS } from '../../lambdas/shared/errors/core';
import { WORKFLOW_NAMES } from '../../lambdas/shared/workflows';

const tasksOf = (workflow: (typeof WORKFLOW_NAMES)[number]) =>
  Object.entries(WORKFLOW_DEFINITIONS[workflow].States).filter((entry): entry is [string, AslState & { Resource: string }] => entry[1].Type === 'Task');
const functionIdOf = (state: { Resource: string }) => /^\$\{(.+)FunctionArn\}$/.exec(state.Resource)?.[1] as string;

describe.each(WORKFLOW_NAMES)('the %s workflow', (workflow) => {
  it('is committed exactly as the builder makes it (run `npm run build:asl` after changing a workflow)', () => {
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

describe('a Task built from a StepSpec', () => {
  const toFail = { next: 'Failed', resultPath: '$.failure' };

  it('renders JSONPath values as `field.$` entries and literals as themselves, after the fence fields', () => {
    const [, state] = task(CreateVolume, {
      parameters: { provider: '$.provider', region: '$.region', sizeGb: 10, generation: '$.reservation.version', seedFrom: { provider: '$.from.provider', volumeId: null } },
      resultPath: '$.volume',
      catch: toFail,
    });

    expect(Object.keys(state.Parameters as object).slice(0, 5)).toEqual(['instanceId.$', 'owner.$', 'claim.$', 'correlationId.$', 'executionStartedAt.$']);
    expect(state.Parameters).toMatchObject({ 'provider.$': '$.provider', 'region.$': '$.region', sizeGb: 10, 'generation.$': '$.reservation.version', seedFrom: { 'provider.$': '$.from.provider', volumeId: null } });
  });

  it('refuses, at compile time, a missing, misspelt or non-path field (the @ts-expect-error lines fail typecheck if they compile)', () => {
    // @ts-expect-error sizeGb is required by CreateVolume's schema
    task(CreateVolume, { parameters: { provider: '$.provider', region: '$.region', generation: 1 }, resultPath: '$.v', catch: toFail });
    // @ts-expect-error `machineID` is not a field of WaitMachineStarted
    task(WaitMachineStarted, { parameters: { provider: '$.provider', machineID: '$.machine.machineId' }, resultPath: '$.v', catch: toFail });
    // @ts-expect-error a free string field takes only a JSONPath
    task(WaitMachineStarted, { parameters: { provider: '.provider', machineId: '$.machine.machineId' }, resultPath: '$.v', catch: toFail });
    // A step whose input is only the fence fields needs no parameters.
    expect(task(TombstoneInstance, { resultPath: '$.finished', catch: toFail })[0]).toBe('TombstoneInstance');
  });

  it('names each step entry after the handler module that exports it', () => {
    for (const fn of FUNCTION_CATALOG.filter((entry) => entry.entry.startsWith('lambdas/operations/'))) {
      const exported = Object.values(require(`../../${fn.entry}`) as Record<string, unknown>);
      expect(exported.some((value) => (value as { name?: string; entry?: string } | null)?.name === fn.id && (value as { entry?: string }).entry === fn.entry)).toBe(true);
    }
  });
});
